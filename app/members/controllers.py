"""HTTP surface of the members feature: /api/v1/profiles, /api/v1/me/profile, /api/v1/skills."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import admin_only, admitted_member
from app.core.errors import InvalidInput
from app.core.problems import problems
from app.core.schemas import (
    CurrencyFilter,
    Limit,
    Money,
    Offset,
    Page,
    SearchText,
    ShortFilter,
    SkillFilters,
    WorkModes,
)
from app.members.deps import viewer_of
from app.members.guards import admitted_member_or_admin
from app.members.location import distance_band
from app.members.schemas import (
    AttestationOut,
    AvailabilityOut,
    ContactOut,
    LanguageOut,
    LinkOut,
    ProfileInput,
    ProfileOut,
    ProfileSkillOut,
    ProfileSummaryOut,
    RatingOut,
    SkillBrief,
    SkillMergeInput,
    SkillOut,
    SkillProposalInput,
)
from app.members.service import MemberService, ProfileSearch, ProfileView
from app.models import Account, Skill, SkillStatus


def skill_out(skill: Skill) -> SkillOut:
    return SkillOut(
        id=skill.id,
        slug=skill.slug,
        name=skill.name,
        aliases=list(skill.aliases),
        category=skill.category,
        esco_uri=skill.esco_uri,
        status=skill.status,
        merged_into_id=skill.merged_into_id,
    )


def profile_out(view: ProfileView) -> ProfileOut:
    profile = view.profile
    return ProfileOut(
        account_id=profile.account_id,
        display_name=profile.display_name,
        headline=profile.headline,
        bio=profile.bio,
        photo_url=profile.photo_url,
        skills=[
            ProfileSkillOut(
                skill_id=skill.id,
                slug=skill.slug,
                name=skill.name,
                esco_uri=skill.esco_uri,
                level=row.level,
                years=row.years,
                provenance="attested" if row.attestations > 0 else row.origin,  # type: ignore[arg-type]
                attestations=[
                    AttestationOut(mission_id=a.mission_id, mission_title=a.mission_title, attested_at=a.attested_at)
                    for a in attestations
                ],
            )
            for row, skill, attestations in view.skills
        ],
        languages=[LanguageOut(code=item["code"], level=item["level"]) for item in profile.languages],
        day_rate_min_minor=profile.day_rate_min_minor,
        day_rate_max_minor=profile.day_rate_max_minor,
        currency=profile.currency,
        available_from=profile.available_from,
        availability=[
            AvailabilityOut(starts_on=a.starts_on, ends_on=a.ends_on, share_percent=a.share_percent)
            for a in view.availability
        ],
        city=profile.city,
        postal_code=profile.postal_code,
        region=profile.region,
        country=profile.country,
        location_precision=profile.location_precision,
        work_mode=profile.work_mode,
        travel_km=profile.travel_km,
        links=[LinkOut(kind=item["kind"], url=item["url"]) for item in profile.links],
        visibility=profile.visibility,
        published=profile.published_at is not None,
        published_at=profile.published_at,
        rating=RatingOut(average=view.rating[0], count=view.rating[1]),
        contact=ContactOut(
            email=profile.contact_email,
            phone=profile.contact_phone,
            latitude=profile.latitude,
            longitude=profile.longitude,
        )
        if view.show_contact
        else None,
        updated_at=profile.updated_at,
    )


def summary_out(row: Any, skills: list[tuple[Any, ...]]) -> ProfileSummaryOut:
    return ProfileSummaryOut(
        account_id=row.account_id,
        display_name=row.display_name,
        headline=row.headline,
        city=row.city,
        region=row.region,
        country=row.country,
        work_mode=row.work_mode,
        day_rate_min_minor=row.day_rate_min_minor,
        day_rate_max_minor=row.day_rate_max_minor,
        currency=row.currency,
        available_from=row.available_from,
        skills=[
            SkillBrief(slug=slug, name=name, level=level, attested=attestations > 0)
            for slug, name, level, attestations in skills[:12]
        ],
        relevance=round(float(row.relevance), 4) if row.relevance is not None else None,
        distance_band=distance_band(float(row.distance_km)) if row.distance_km is not None else None,
    )


class ProfilesController(Controller):
    """Published profiles; what each caller sees depends on the profile's visibility.

    The viewer is read from the request (`viewer_of`) rather than injected beside the service: two
    independent dependencies make Litestar resolve them in an anyio task group (6.5 % of a profile
    read's samples, bench/README.md).
    """

    path = "/api/v1/profiles"
    tags = ["profiles"]

    @get(
        summary="Search published profiles: full text (FR/EN, accents and typos forgiven), filters, sorting",
        description=(
            "Anonymous visitors and clients see public profiles; admitted members and administrators also see "
            "members-only ones. Hidden profiles never appear. `total` counts only what the caller may see."
        ),
        responses=problems(400, 401),
    )
    async def search_profiles(
        self,
        request: Request,
        members: NamedDependency[MemberService],
        q: SearchText = None,
        skill: SkillFilters = None,
        rate_min: Money = None,
        rate_max: Money = None,
        currency: CurrencyFilter = None,
        region: ShortFilter = None,
        work_mode: WorkModes = None,
        near_lat: Annotated[float | None, QueryParameter(ge=-90, le=90)] = None,
        near_lon: Annotated[float | None, QueryParameter(ge=-180, le=180)] = None,
        within_km: Annotated[float | None, QueryParameter(gt=0, le=2000)] = None,
        available_from: Annotated[date | None, QueryParameter(description="Free for the whole period...")] = None,
        available_to: Annotated[date | None, QueryParameter(description="...up to this date")] = None,
        sort: Annotated[
            Literal["relevance", "rate", "available", "recent", "distance"], QueryParameter()
        ] = "relevance",
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ProfileSummaryOut]:
        near = None
        if near_lat is not None or near_lon is not None or within_km is not None:
            if near_lat is None or near_lon is None or within_km is None:
                raise InvalidInput.field("near_lat", "Give near_lat, near_lon and within_km together.")
            near = (near_lat, near_lon, within_km)
        available = None
        if available_from is not None or available_to is not None:
            start = available_from or available_to
            available = (start, available_to or start)  # type: ignore[arg-type]
        rows, skills, total = await members.search(
            viewer_of(request),
            ProfileSearch(
                q=q,
                skills=skill or (),
                rate_min=rate_min,
                rate_max=rate_max,
                currency=currency,
                region=region,
                work_modes=work_mode or (),
                near=near,
                available=available,
                sort=sort,
                limit=limit,
                offset=offset,
            ),
        )
        return Page(
            items=[summary_out(row, skills.get(row.account_id, [])) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get(
        "/{account_id:uuid}",
        summary="One profile; contact details only for the member and administrators",
        responses=problems(401, 404),
    )
    async def get_profile(
        self, request: Request, account_id: FromPath[uuid.UUID], members: NamedDependency[MemberService]
    ) -> ProfileOut:
        return profile_out(await members.visible_profile(viewer_of(request), account_id))


class MyProfileController(Controller):
    path = "/api/v1/me/profile"
    tags = ["profiles"]
    guards = [admitted_member]

    @get(summary="Your profile, published or not", responses=problems(401, 403, 404))
    async def my_profile(
        self, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> ProfileOut:
        return profile_out(await members.own_profile(current_account))

    @put(
        summary="Create or replace your profile (admitted members); skills attested by reviews are kept",
        responses=problems(400, 401, 403, 413),
    )
    async def save_profile(
        self,
        data: JSONBody[ProfileInput],
        current_account: NamedDependency[Account],
        members: NamedDependency[MemberService],
    ) -> ProfileOut:
        return profile_out(await members.save_profile(current_account, data))

    @post(
        "/publish",
        status_code=HTTP_200_OK,
        summary="Publish your profile (who sees it depends on its visibility)",
        responses=problems(401, 403, 404),
    )
    async def publish(
        self, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> ProfileOut:
        return profile_out(await members.set_published(current_account, True))

    @post(
        "/unpublish",
        status_code=HTTP_200_OK,
        summary="Withdraw your profile from search and from everyone but you and administrators",
        responses=problems(401, 403, 404),
    )
    async def unpublish(
        self, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> ProfileOut:
        return profile_out(await members.set_published(current_account, False))


class SkillsController(Controller):
    """The cooperative's skills référentiel: public to read; members propose, administrators accept or merge."""

    path = "/api/v1/skills"
    tags = ["skills"]

    @get(summary="Search the skills référentiel by name or alias", responses=problems(400, 401))
    async def list_skills(
        self,
        members: NamedDependency[MemberService],
        q: SearchText = None,
        category: ShortFilter = None,
        status: Annotated[SkillStatus | None, QueryParameter(description="Default: all but merged")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[SkillOut]:
        rows, total = await members.skills(q=q, category=category, status=status, limit=limit, offset=offset)
        return Page(items=[skill_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{skill_id:uuid}", summary="One skill", responses=problems(401, 404))
    async def get_skill(self, skill_id: FromPath[uuid.UUID], members: NamedDependency[MemberService]) -> SkillOut:
        return skill_out(await members.skill(skill_id))

    @post(
        guards=[admitted_member_or_admin],
        summary="Propose a skill (members); an administrator's proposal is accepted at once",
        responses=problems(400, 401, 403, 409, 413),
    )
    async def propose_skill(
        self,
        data: JSONBody[SkillProposalInput],
        current_account: NamedDependency[Account],
        members: NamedDependency[MemberService],
    ) -> SkillOut:
        return skill_out(
            await members.propose_skill(current_account, name=data.name, aliases=data.aliases, category=data.category)
        )

    @post(
        "/{skill_id:uuid}/accept",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Accept a proposed skill into the référentiel (administrators)",
        responses=problems(401, 403, 404, 409),
    )
    async def accept_skill(self, skill_id: FromPath[uuid.UUID], members: NamedDependency[MemberService]) -> SkillOut:
        return skill_out(await members.accept_skill(skill_id))

    @post(
        "/{skill_id:uuid}/merge",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Merge a skill into another (administrators): profiles and missions move to the target",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def merge_skill(
        self,
        skill_id: FromPath[uuid.UUID],
        data: JSONBody[SkillMergeInput],
        members: NamedDependency[MemberService],
    ) -> SkillOut:
        return skill_out(await members.merge_skill(skill_id, data.into_skill_id))
