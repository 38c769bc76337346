"""Rules of the members feature: profiles, their visibility, the skills référentiel, profile search.

Nothing here knows about HTTP; nothing here commits. The missions feature builds on this one
(matching reads profiles, reviews attest skills); this one never imports the missions feature.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app.core.errors import Conflict, InvalidInput, NotFound
from app.db.transaction import UnitOfWork
from app.members.location import published_point
from app.members.repository import (
    AvailabilityRecord,
    MemberRepository,
    ProfileFilters,
    ProfileRecord,
    ProfileSkillRecord,
    SkillRecord,
    build_tsquery,
)
from app.members.schemas import ProfileInput
from app.models import (
    Account,
    MemberProfile,
    MemberStatus,
    ProfileSkill,
    Role,
    Skill,
    SkillAttestation,
    SkillOrigin,
    SkillStatus,
    Visibility,
)

MAX_QUERY_WORDS = 8
MAX_SKILL_FILTERS = 10
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})


def sees_members_only(viewer: Account | None) -> bool:
    """Admitted members and administrators see what is shared with members."""
    if viewer is None:
        return False
    if viewer.role == Role.ADMIN:
        return True
    return viewer.role == Role.MEMBER and viewer.member_status == MemberStatus.MEMBER


def listed_visibilities(viewer: Account | None) -> tuple[str, ...]:
    if sees_members_only(viewer):
        return (Visibility.PUBLIC.value, Visibility.MEMBERS.value)
    return (Visibility.PUBLIC.value,)


def query_words(q: str) -> list[str]:
    """Lowercased, unaccented words of a query, as the SQL side folds them (`coop_unaccent`)."""
    folded = unicodedata.normalize("NFKD", q.translate(_LIGATURES).lower())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    words = [word for word in re.split(r"[^a-z0-9]+", plain) if word]
    return list(dict.fromkeys(words))[:MAX_QUERY_WORDS]


def slugify(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.translate(_LIGATURES).lower())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    plain = plain.replace("c++", "cpp").replace("c#", "csharp").replace(".net", "dotnet")
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:80] or "skill"


@dataclass(frozen=True)
class Attestation:
    mission_id: uuid.UUID
    mission_title: str
    attested_at: datetime


@dataclass(frozen=True)
class ProfileView:
    """A profile as one viewer may see it; `contact` only for the member and administrators.

    Read-only records (the same attribute names as the table models), read in one statement."""

    profile: ProfileRecord
    skills: list[tuple[ProfileSkillRecord, SkillRecord, list[Attestation]]]
    availability: Sequence[AvailabilityRecord]
    rating: tuple[float | None, int]
    show_contact: bool


@dataclass(frozen=True)
class ProfileSearch:
    q: str | None = None
    skills: Sequence[str] = ()
    rate_min: int | None = None
    rate_max: int | None = None
    currency: str | None = None
    region: str | None = None
    work_modes: Sequence[str] = ()
    near: tuple[float, float, float] | None = None
    available: tuple[date, date] | None = None
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0


class MemberService:
    def __init__(self, unit_of_work: UnitOfWork) -> None:
        self.repository = MemberRepository(unit_of_work.session, unit_of_work.database)

    # profiles

    async def own_profile(self, member: Account) -> ProfileView:
        view = await self._view(member.id, show_contact=True)
        if view is None:
            raise NotFound("You have no profile yet: PUT /api/v1/me/profile creates it.")
        return view

    async def save_profile(self, member: Account, data: ProfileInput) -> ProfileView:
        self._check(data)
        skills = await self.repository.skills_by_ids([skill.skill_id for skill in data.skills])
        resolved: dict[uuid.UUID, tuple[int, int]] = {}
        for index, entry in enumerate(data.skills):
            skill = skills.get(entry.skill_id)
            if skill is None:
                raise InvalidInput.field(f"skills[{index}].skill_id", "No such skill in the référentiel.")
            if skill.merged_into_id is not None:
                skill = await self.repository.get_skill(skill.merged_into_id) or skill
            level, years = resolved.get(skill.id, (0, 0))
            resolved[skill.id] = (max(level, entry.level), max(years, entry.years))
        now = datetime.now(UTC)
        profile = await self.repository.get_profile(member.id)
        if profile is None:
            profile = MemberProfile(
                account_id=member.id,
                display_name=data.display_name,
                headline=data.headline,
                day_rate_min_minor=data.day_rate_min_minor,
                day_rate_max_minor=data.day_rate_max_minor,
                city=data.city,
                region=data.region,
                work_mode=data.work_mode,
            )
            await self.repository.add(profile)
        profile.display_name = data.display_name
        profile.headline = data.headline
        profile.bio = data.bio
        profile.photo_url = data.photo_url
        profile.day_rate_min_minor = data.day_rate_min_minor
        profile.day_rate_max_minor = data.day_rate_max_minor
        profile.currency = data.currency
        profile.available_from = data.available_from
        profile.city = data.city
        profile.postal_code = data.postal_code
        profile.region = data.region
        profile.country = data.country
        profile.location_precision = data.location_precision
        profile.latitude, profile.longitude = published_point(data.latitude, data.longitude, data.location_precision)
        profile.work_mode = data.work_mode
        profile.travel_km = data.travel_km
        profile.languages = [{"code": language.code, "level": language.level} for language in data.languages]
        profile.links = [{"kind": link.kind, "url": link.url} for link in data.links]
        profile.contact_email = data.contact_email
        profile.contact_phone = data.contact_phone
        profile.visibility = data.visibility
        profile.updated_at = now
        await self.repository.replace_declared_skills(
            member.id, [(skill_id, level, years) for skill_id, (level, years) in resolved.items()]
        )
        await self.repository.replace_availability(
            member.id, [(a.starts_on, a.ends_on, a.share_percent) for a in data.availability]
        )
        await self._refresh_search_words(profile)
        return await self._saved_view(profile)

    def _check(self, data: ProfileInput) -> None:
        if data.day_rate_max_minor < data.day_rate_min_minor:
            raise InvalidInput.field("day_rate_max_minor", "The highest day rate cannot be below the lowest.")
        if (data.latitude is None) != (data.longitude is None):
            raise InvalidInput.field("latitude", "Give both coordinates, or neither.")
        for name in ("latitude", "longitude"):
            value = getattr(data, name)
            if value is not None and not math.isfinite(value):
                raise InvalidInput.field(name, "Coordinates are finite numbers.")
        for index, period in enumerate(data.availability):
            if period.ends_on < period.starts_on:
                raise InvalidInput.field(f"availability[{index}].ends_on", "A period ends on or after its start.")

    async def _refresh_search_words(self, profile: MemberProfile) -> None:
        profile.skills_text = await self.repository.skill_names(profile.account_id)
        await self.repository.learn_words(
            profile.display_name, profile.headline, profile.bio, profile.skills_text, profile.city, profile.region
        )

    async def set_published(self, member: Account, published: bool) -> ProfileView:
        profile = await self.repository.get_profile(member.id)
        if profile is None:
            raise NotFound("You have no profile yet: PUT /api/v1/me/profile creates it.")
        if published and profile.published_at is None:
            profile.published_at = datetime.now(UTC)
        elif not published:
            profile.published_at = None
        profile.updated_at = datetime.now(UTC)
        return await self._saved_view(profile)

    async def visible_profile(self, viewer: Account | None, account_id: uuid.UUID) -> ProfileView:
        """Hidden, unpublished or members-only profiles do not exist for those who may not see them."""
        privileged = viewer is not None and (viewer.id == account_id or viewer.role == Role.ADMIN)
        view = await self._view(account_id, show_contact=privileged)
        if view is None or not self.can_view(viewer, view.profile):
            raise NotFound()
        return view

    @staticmethod
    def can_view(viewer: Account | None, profile: MemberProfile | ProfileRecord) -> bool:
        if viewer is not None and (viewer.id == profile.account_id or viewer.role == Role.ADMIN):
            return True
        if profile.published_at is None or profile.visibility == Visibility.HIDDEN:
            return False
        return profile.visibility == Visibility.PUBLIC or sees_members_only(viewer)

    async def _view(self, account_id: uuid.UUID, *, show_contact: bool) -> ProfileView | None:
        row = await self.repository.profile_view(account_id)
        if row is None:
            return None
        return ProfileView(
            profile=row.profile,
            skills=[
                (skill_row, skill, [Attestation(*attestation) for attestation in attestations])
                for skill_row, skill, attestations in row.skills
            ],
            availability=row.availability,
            rating=row.rating,
            show_contact=show_contact,
        )

    async def _saved_view(self, profile: MemberProfile) -> ProfileView:
        """The profile this request just wrote, read back through its unit of work."""
        view = await self._view(profile.account_id, show_contact=True)
        assert view is not None, "written and flushed by this very request"
        return view

    # search

    async def search(self, viewer: Account | None, search: ProfileSearch) -> tuple[list[Any], dict, int]:
        """A page of profile summaries the viewer may see, their skills, and the total of such profiles."""
        filters = ProfileFilters(
            visibilities=listed_visibilities(viewer),
            tsquery=await self.text_query(search.q) if search.q else None,
            skills=await self._skill_filters(search.skills),
            rate_min=search.rate_min,
            rate_max=search.rate_max,
            currency=search.currency,
            region=search.region,
            work_modes=tuple(search.work_modes),
            near=search.near,
            available=search.available,
            sort=search.sort if (search.sort != "distance" or search.near) else "relevance",
            limit=search.limit,
            offset=search.offset,
        )
        if search.available and search.available[1] < search.available[0]:
            raise InvalidInput.field("available_to", "The period ends on or after its start.")
        if search.near and not all(math.isfinite(value) for value in search.near):
            raise InvalidInput.field("near", "Coordinates and distance are finite numbers.")
        rows, total = await self.repository.search_profiles(filters)
        if total is None:
            total = await self.repository.count_profiles(filters) if search.offset else 0
        skills = {
            row.account_id: [
                tuple(item) for item in (json.loads(row.skills) if isinstance(row.skills, str) else row.skills)
            ]
            for row in rows
        }
        return rows, skills, total

    async def text_query(self, q: str) -> str | None:
        """The tsquery text for `q`: each word, or-ed with its closest known words when it is unknown."""
        words = query_words(q)
        if not words:
            return None
        corrections = await self.repository.correct_words(words)
        return build_tsquery([[word, *corrections.get(word, [])] for word in words])

    async def _skill_filters(self, terms: Sequence[str]) -> list[tuple[uuid.UUID, int]]:
        if len(terms) > MAX_SKILL_FILTERS:
            raise InvalidInput.field("skill", f"At most {MAX_SKILL_FILTERS} skills.")
        filters = []
        for term in terms:
            name, _, level_text = term.rpartition(":") if ":" in term else (term, "", "1")
            if not level_text.isdigit() or not 1 <= int(level_text) <= 5 or not name.strip():
                raise InvalidInput.field("skill", "Write a skill as `slug` or `slug:level`, level 1 to 5.")
            skill = await self.repository.skill_by_term(name.strip())
            if skill is None:
                raise InvalidInput.field("skill", f"Unknown skill {name.strip()[:60]!r}.")
            filters.append((skill.id, int(level_text)))
        return filters

    # the référentiel

    async def skill(self, skill_id: uuid.UUID) -> Skill:
        skill = await self.repository.get_skill(skill_id)
        if skill is None:
            raise NotFound()
        return skill

    async def skill_by_term(self, term: str) -> Skill | None:
        """A skill by slug, name or alias, as typed by a person (the web form's autocomplete)."""
        term = term.strip()
        return await self.repository.skill_by_term(term) if term else None

    async def skills(
        self, *, q: str | None, category: str | None, status: SkillStatus | None, limit: int, offset: int
    ) -> tuple[Sequence[Skill], int]:
        return await self.repository.search_skills(
            q=q, category=category, status=status.value if status else None, limit=limit, offset=offset
        )

    async def propose_skill(self, proposer: Account, *, name: str, aliases: Sequence[str], category: str) -> Skill:
        terms = [name.strip(), *[alias.strip() for alias in aliases]]
        if await self.repository.term_taken(terms):
            raise Conflict("The référentiel already has this skill (by name or alias): use it, or ask to merge.")
        base = slugify(name)
        slug, counter = base, 2
        while await self.repository.slug_exists(slug):
            slug, counter = f"{base[:76]}-{counter}", counter + 1
        skill = Skill(
            slug=slug,
            name=name.strip(),
            aliases=[alias.strip() for alias in aliases if alias.strip()],
            category=category,
            status=SkillStatus.ACCEPTED.value if proposer.role == Role.ADMIN else SkillStatus.PROPOSED.value,
            proposed_by_id=proposer.id,
        )
        await self.repository.add(skill)
        await self.repository.learn_words(skill.name, *skill.aliases)
        await self.repository.session.refresh(skill)
        return skill

    async def accept_skill(self, skill_id: uuid.UUID) -> Skill:
        skill = await self.skill(skill_id)
        if skill.status == SkillStatus.MERGED:
            raise Conflict("This skill was merged into another one.")
        skill.status = SkillStatus.ACCEPTED.value
        return skill

    async def merge_skill(self, skill_id: uuid.UUID, into_skill_id: uuid.UUID) -> Skill:
        """Fold a (usually proposed) skill into another: its name becomes an alias, its uses move over."""
        skill = await self.skill(skill_id)
        target = await self.repository.get_skill(into_skill_id)
        if target is None:
            raise InvalidInput.field("into_skill_id", "No such skill.")
        if target.id == skill.id or target.status == SkillStatus.MERGED or skill.status == SkillStatus.MERGED:
            raise Conflict("A skill merges once, into another skill that is not itself merged.")
        await self.repository.merge_skill(skill, target)
        target.aliases = list(dict.fromkeys([*target.aliases, skill.name, *skill.aliases]))[:50]
        skill.status = SkillStatus.MERGED.value
        skill.merged_into_id = target.id
        await self.repository.session.flush()
        await self.repository.session.refresh(skill)
        await self.repository.session.refresh(target)
        return skill

    # skills brought by other features (a CV's accepted suggestion, a completed training)

    async def add_skill(
        self, member_id: uuid.UUID, skill_id: uuid.UUID, *, level: int, years: int, origin: SkillOrigin
    ) -> ProfileSkill:
        """Put a skill on the member's profile, or raise what it already says (never lowers it).

        A skill already on the profile keeps its origin, except that a training that raises its level
        makes it "trained" (the level now rests on the training).
        """
        profile = await self.repository.get_profile(member_id)
        if profile is None:
            raise Conflict("You have no profile yet: PUT /api/v1/me/profile creates it, then add skills.")
        existing = {row.skill_id: row for row, _ in await self.repository.profile_skills(member_id)}
        row = existing.get(skill_id)
        if row is None:
            row = ProfileSkill(
                profile_id=member_id,
                skill_id=skill_id,
                level=level,
                years=min(years, 60),
                declared=origin != SkillOrigin.TRAINED,
                origin=origin.value,
            )
            await self.repository.add(row)
        else:
            if origin == SkillOrigin.TRAINED and level > row.level:
                row.origin = origin.value
            row.level = max(row.level, level)
            row.years = max(row.years, min(years, 60))
        profile.updated_at = datetime.now(UTC)
        await self._refresh_search_words(profile)
        return row

    # attestations (called by the missions feature when reviews are published)

    async def attest_skills(
        self,
        *,
        member_id: uuid.UUID,
        skill_ids: Sequence[uuid.UUID],
        mission_id: uuid.UUID,
        review_id: uuid.UUID,
        attested_by_id: uuid.UUID,
    ) -> None:
        profile = await self.repository.get_profile(member_id)
        if profile is None or not skill_ids:
            return
        existing = {row.skill_id: row for row, _ in await self.repository.profile_skills(member_id)}
        for skill_id in dict.fromkeys(skill_ids):
            row = existing.get(skill_id)
            if row is None:
                # Seen at work but never declared: attested at an "autonomous" level until the member says more.
                row = ProfileSkill(profile_id=member_id, skill_id=skill_id, level=3, years=0, declared=False)
                await self.repository.add(row)
            row.attestations += 1
            await self.repository.add(
                SkillAttestation(
                    profile_id=member_id,
                    skill_id=skill_id,
                    mission_id=mission_id,
                    review_id=review_id,
                    attested_by_id=attested_by_id,
                )
            )
        await self._refresh_search_words(profile)
