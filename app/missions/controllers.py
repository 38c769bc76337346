"""HTTP surface of the missions feature: /api/v1/missions (lifecycle, applications, questions, reviews,
matches), /api/v1/me/missions, /api/v1/me/matches, /api/v1/profiles/{id}/reviews, /api/v1/matching/policy."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import admin_only, admitted_member, signed_in
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page, SearchText, ShortFilter, SkillFilters, WorkModes
from app.members.guards import client_or_admitted_member
from app.members.location import distance_band
from app.missions.matching import Score
from app.missions.schemas import (
    AnswerInput,
    ApplicationInput,
    ApplicationOut,
    EngagementOut,
    MemberMatchOut,
    MissionInput,
    MissionMatchOut,
    MissionOut,
    MissionSummaryOut,
    MyApplicationOut,
    MyEngagementOut,
    PolicyInput,
    PolicyOut,
    QuestionInput,
    QuestionOut,
    ReviewInput,
    ReviewOut,
    ScoreOut,
    SeatMatchesOut,
    SeatOut,
    SeatSkillOut,
    TransitionInput,
    TransitionOut,
)
from app.missions.service import MissionSearch, MissionService, MissionView
from app.models import Account, Application, MarketplacePolicy, Mission, MissionQuestion, Review

ListedStatus = Literal["open", "staffed", "in_progress", "delivered", "closed"]
ApplicationStatusText = Literal["submitted", "shortlisted", "accepted", "declined", "withdrawn"]


def mission_out(view: MissionView) -> MissionOut:
    mission = view.mission
    return MissionOut(
        id=mission.id,
        title=mission.title,
        description=mission.description,
        owner_id=mission.owner_id,
        posted_by="member" if mission.referrer_id else "client",
        referrer_id=mission.referrer_id,
        client_name=mission.client_name,
        budget_kind=mission.budget_kind,
        budget_amount_minor=mission.budget_amount_minor,
        budget_days=mission.budget_days,
        currency=mission.currency,
        starts_on=mission.starts_on,
        ends_on=mission.ends_on,
        city=mission.city,
        postal_code=mission.postal_code,
        region=mission.region,
        country=mission.country,
        work_mode=mission.work_mode,
        visibility=mission.visibility,
        listed_publicly=view.listed_publicly,
        status=mission.status,
        seats=[
            SeatOut(
                id=seat.id,
                position=seat.position,
                title=seat.title,
                skills=[
                    SeatSkillOut(skill_id=skill.id, slug=skill.slug, name=skill.name, min_level=row.min_level)
                    for row, skill in skills
                ],
                day_rate_minor=seat.day_rate_minor,
                days=seat.days,
                filled=filled,
            )
            for seat, skills, filled in view.seats
        ],
        engagements=[
            EngagementOut(
                id=e.id,
                seat_id=e.seat_id,
                member_id=e.member_id,
                day_rate_minor=None if e.id in view.hidden_rates else e.day_rate_minor,
                days=e.days,
                starts_on=e.starts_on,
                ends_on=e.ends_on,
            )
            for e in view.engagements
        ]
        if view.engagements is not None
        else None,
        created_at=mission.created_at,
        delivered_at=mission.delivered_at,
    )


def summary_out(row: Any) -> MissionSummaryOut:
    return MissionSummaryOut(
        id=row.id,
        title=row.title,
        status=row.status,
        visibility=row.visibility,
        budget_kind=row.budget_kind,
        budget_amount_minor=row.budget_amount_minor,
        budget_days=row.budget_days,
        currency=row.currency,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        city=row.city,
        region=row.region,
        work_mode=row.work_mode,
        seats=row.seats,
        open_seats=row.open_seats,
        relevance=round(float(row.relevance), 4) if row.relevance is not None else None,
    )


def application_out(row: Application) -> ApplicationOut:
    return ApplicationOut(
        id=row.id,
        mission_id=row.mission_id,
        seat_id=row.seat_id,
        member_id=row.member_id,
        message=row.message,
        proposed_day_rate_minor=row.proposed_day_rate_minor,
        status=row.status,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def question_out(row: MissionQuestion) -> QuestionOut:
    return QuestionOut(
        id=row.id,
        mission_id=row.mission_id,
        author_id=row.author_id,
        body=row.body,
        answer=row.answer,
        answered_at=row.answered_at,
        created_at=row.created_at,
    )


def review_out(row: Review, title: str) -> ReviewOut:
    return ReviewOut(
        id=row.id,
        mission_id=row.mission_id,
        mission_title=title,
        author_id=row.author_id,
        subject_id=row.subject_id,
        rating=row.rating,
        text=row.text,
        skills_seen=[uuid.UUID(str(s)) for s in row.skills_seen],
        created_at=row.created_at,
        published=row.published_at is not None,
        published_at=row.published_at,
    )


def score_out(score: Score) -> ScoreOut:
    return ScoreOut(
        total=score.total,
        skill_fit=score.skill_fit,
        availability=score.availability,
        rate=score.rate,
        distance=score.distance,
        local=score.local,
        distance_band=distance_band(score.distance_km),
        notes=score.notes,
    )


def policy_out(policy: MarketplacePolicy) -> PolicyOut:
    return PolicyOut(
        territorial_fairness=policy.territorial_fairness,
        local_radius_km=policy.local_radius_km,
        updated_at=policy.updated_at,
    )


MissionId = FromPath[uuid.UUID]


class MissionsController(Controller):
    """Missions: drafts are their owner's; open ones are public or for members, as their owner chose."""

    path = "/api/v1/missions"
    tags = ["missions"]

    @get(
        summary="Search listed missions: full text (FR/EN, accents and typos forgiven), filters, sorting",
        description="Anonymous visitors and clients see public missions; admitted members also members-only ones.",
        responses=problems(400, 401),
    )
    async def search_missions(
        self,
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
        q: SearchText = None,
        skill: SkillFilters = None,
        region: ShortFilter = None,
        work_mode: WorkModes = None,
        status: Annotated[list[ListedStatus] | None, QueryParameter(max_items=5, description="Default: open")] = None,
        starts_after: Annotated[date | None, QueryParameter()] = None,
        sort: Annotated[Literal["relevance", "recent", "starts", "budget"], QueryParameter()] = "relevance",
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[MissionSummaryOut]:
        rows, total = await missions.search(
            viewer,
            MissionSearch(
                q=q,
                skills=skill or (),
                region=region,
                work_modes=work_mode or (),
                statuses=tuple(status or ("open",)),
                starts_after=starts_after,
                sort=sort,
                limit=limit,
                offset=offset,
            ),
        )
        return Page(items=[summary_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @post(
        guards=[client_or_admitted_member],
        summary="Post a mission (clients), or bring one for your own client (members: you become its referrer)",
        description="The mission starts as a draft; open it with a transition once its seats are described.",
        responses=problems(400, 401, 403, 413),
    )
    async def create_mission(
        self,
        data: JSONBody[MissionInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> MissionOut:
        return mission_out(await missions.create(current_account, data))

    @get("/{mission_id:uuid}", summary="One mission, if you may see it", responses=problems(401, 404))
    async def get_mission(
        self,
        mission_id: MissionId,
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
    ) -> MissionOut:
        mission = await missions.visible(viewer, mission_id)
        return mission_out(await missions.view(viewer, mission))

    @put(
        "/{mission_id:uuid}",
        guards=[signed_in],
        summary="Rewrite a draft mission (its owner and administrators)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def replace_mission(
        self,
        mission_id: MissionId,
        data: JSONBody[MissionInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> MissionOut:
        return mission_out(await missions.replace(current_account, mission_id, data))

    @post(
        "/{mission_id:uuid}/transitions",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Move the mission along its lifecycle; an illegal move is a 409 problem",
        description=(
            "draft → open → staffed → in_progress → delivered → closed, or cancelled before delivery. "
            "Only the owner and administrators; each move is logged with who and when."
        ),
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def transition(
        self,
        mission_id: MissionId,
        data: JSONBody[TransitionInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> MissionOut:
        return mission_out(await missions.transition(current_account, mission_id, data.to, data.reason))

    @get(
        "/{mission_id:uuid}/transitions",
        guards=[signed_in],
        summary="The lifecycle log (participants and administrators)",
        responses=problems(401, 403, 404),
    )
    async def transitions(
        self,
        mission_id: MissionId,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> list[TransitionOut]:
        rows = await missions.transitions(current_account, mission_id)
        return [
            TransitionOut(
                from_status=r.from_status, to_status=r.to_status, actor_id=r.actor_id, reason=r.reason, at=r.at
            )
            for r in rows
        ]

    @get(
        "/{mission_id:uuid}/applications",
        guards=[signed_in],
        summary="Applications: all of them for the owner and administrators, your own for anyone else",
        responses=problems(401, 404),
    )
    async def applications(
        self,
        mission_id: MissionId,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ApplicationOut]:
        rows, total = await missions.applications(current_account, mission_id, limit, offset)
        return Page(items=[application_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @post(
        "/{mission_id:uuid}/applications",
        guards=[admitted_member],
        summary="Apply to a seat with a message and a proposed day rate (admitted members)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def apply(
        self,
        mission_id: MissionId,
        data: JSONBody[ApplicationInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> ApplicationOut:
        application = await missions.apply(
            current_account, mission_id, data.seat_id, data.message, data.proposed_day_rate_minor
        )
        return application_out(application)

    async def _decide(
        self, mission_id: uuid.UUID, application_id: uuid.UUID, account: Account, missions: MissionService, action: str
    ) -> ApplicationOut:
        return application_out(await missions.decide(account, mission_id, application_id, action))

    @post(
        "/{mission_id:uuid}/applications/{application_id:uuid}/withdraw",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Withdraw your application",
        responses=problems(401, 403, 404, 409),
    )
    async def withdraw(
        self,
        mission_id: MissionId,
        application_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> ApplicationOut:
        return await self._decide(mission_id, application_id, current_account, missions, "withdraw")

    @post(
        "/{mission_id:uuid}/applications/{application_id:uuid}/shortlist",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Shortlist an application (the owner and administrators)",
        responses=problems(401, 403, 404, 409),
    )
    async def shortlist(
        self,
        mission_id: MissionId,
        application_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> ApplicationOut:
        return await self._decide(mission_id, application_id, current_account, missions, "shortlist")

    @post(
        "/{mission_id:uuid}/applications/{application_id:uuid}/accept",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Accept an application: the seat is filled and an engagement recorded; all seats filled → staffed",
        responses=problems(401, 403, 404, 409),
    )
    async def accept(
        self,
        mission_id: MissionId,
        application_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> ApplicationOut:
        return await self._decide(mission_id, application_id, current_account, missions, "accept")

    @post(
        "/{mission_id:uuid}/applications/{application_id:uuid}/decline",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Decline an application (the owner and administrators)",
        responses=problems(401, 403, 404, 409),
    )
    async def decline(
        self,
        mission_id: MissionId,
        application_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> ApplicationOut:
        return await self._decide(mission_id, application_id, current_account, missions, "decline")

    @get(
        "/{mission_id:uuid}/questions",
        summary="The mission's questions and answers (whoever may see the mission)",
        responses=problems(401, 404),
    )
    async def questions(
        self,
        mission_id: MissionId,
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[QuestionOut]:
        rows, total = await missions.questions(viewer, mission_id, limit, offset)
        return Page(items=[question_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @post(
        "/{mission_id:uuid}/questions",
        guards=[admitted_member],
        summary="Ask the owner a question (admitted members)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def ask(
        self,
        mission_id: MissionId,
        data: JSONBody[QuestionInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> QuestionOut:
        return question_out(await missions.ask(current_account, mission_id, data.body))

    @post(
        "/{mission_id:uuid}/questions/{question_id:uuid}/answer",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Answer a question (the owner and administrators)",
        responses=problems(400, 401, 403, 404, 413),
    )
    async def answer(
        self,
        mission_id: MissionId,
        question_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> QuestionOut:
        return question_out(await missions.answer(current_account, mission_id, question_id, data.answer))

    @get(
        "/{mission_id:uuid}/reviews",
        summary="Published reviews of the mission, and your own unpublished ones",
        responses=problems(401, 404),
    )
    async def reviews(
        self,
        mission_id: MissionId,
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ReviewOut]:
        rows, total = await missions.mission_reviews(viewer, mission_id, limit, offset)
        return Page(items=[review_out(row, title) for row, title in rows], total=total, limit=limit, offset=offset)

    @post(
        "/{mission_id:uuid}/reviews",
        guards=[signed_in],
        summary="Review another participant once the mission is delivered (published with theirs, or after 14 days)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def review(
        self,
        mission_id: MissionId,
        data: JSONBody[ReviewInput],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> ReviewOut:
        mission = await missions.visible(current_account, mission_id)
        row = await missions.review(
            current_account,
            mission_id,
            subject_id=data.subject_id,
            rating=data.rating,
            text=data.text,
            skills_seen=data.skills_seen,
        )
        return review_out(row, mission.title)

    @get(
        "/{mission_id:uuid}/matches",
        guards=[signed_in],
        summary="Ranked members for each seat, each score explained (the owner and administrators)",
        responses=problems(400, 401, 403, 404),
    )
    async def matches(
        self,
        mission_id: MissionId,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        seat_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        candidates: Annotated[int, QueryParameter(ge=1, le=50, description="Candidates per seat")] = 10,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[SeatMatchesOut]:
        results = await missions.matches_for_mission(current_account, mission_id, seat_id, candidates)
        page = results[offset : offset + limit]
        items = [
            SeatMatchesOut(
                seat_id=result.seat.id,
                seat_title=result.seat.title,
                candidates=[
                    MemberMatchOut(
                        account_id=profile.account_id,
                        display_name=profile.display_name,
                        headline=profile.headline,
                        city=profile.city,
                        region=profile.region,
                        day_rate_min_minor=profile.day_rate_min_minor,
                        currency=profile.currency,
                        score=score_out(score),
                    )
                    for profile, score in result.candidates
                ],
            )
            for result in page
        ]
        return Page(items=items, total=len(results), limit=limit, offset=offset)


class MyMissionsController(Controller):
    path = "/api/v1/me"
    tags = ["missions"]

    @get(
        "/missions",
        guards=[signed_in],
        summary="Missions you posted or brought, drafts included",
        responses=problems(400, 401),
    )
    async def my_missions(
        self,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[MissionSummaryOut]:
        rows, counts, total = await missions.mine(current_account, limit, offset)
        items = []
        for mission in rows:
            seats, open_seats = counts.get(mission.id, (0, 0))
            items.append(_summary(mission, seats, open_seats))
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/matches",
        guards=[admitted_member],
        summary="Open missions ranked for you, each score explained (admitted members with a profile)",
        responses=problems(400, 401, 403, 404),
    )
    async def my_matches(
        self,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
        offset: Offset = 0,
    ) -> Page[MissionMatchOut]:
        ranked, total = await missions.matches_for_member(current_account, limit, offset)
        items = [
            MissionMatchOut(
                mission_id=mission.id,
                seat_id=seat.id,
                title=mission.title,
                seat_title=seat.title,
                city=mission.city,
                region=mission.region,
                starts_on=mission.starts_on,
                ends_on=mission.ends_on,
                score=score_out(score),
            )
            for mission, seat, score in ranked
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/applications",
        guards=[signed_in],
        summary="Your applications, newest first, with each mission's title",
        responses=problems(400, 401),
    )
    async def my_applications(
        self,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        status: Annotated[ApplicationStatusText | None, QueryParameter()] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[MyApplicationOut]:
        rows, total = await missions.my_applications(current_account, status, limit, offset)
        items = [MyApplicationOut(application=application_out(row), mission_title=title) for row, title in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/engagements",
        guards=[signed_in],
        summary="The seats you were staffed on, with each mission's title and status",
        responses=problems(400, 401),
    )
    async def my_engagements(
        self,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[MyEngagementOut]:
        rows, total = await missions.my_engagements(current_account, limit, offset)
        items = [
            MyEngagementOut(
                id=e.id,
                mission_id=mission.id,
                mission_title=mission.title,
                mission_status=mission.status,
                seat_id=e.seat_id,
                day_rate_minor=e.day_rate_minor,
                currency=mission.currency,
                days=e.days,
                starts_on=e.starts_on,
                ends_on=e.ends_on,
            )
            for e, mission in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)


def _summary(mission: Mission, seats: int, open_seats: int) -> MissionSummaryOut:
    return MissionSummaryOut(
        id=mission.id,
        title=mission.title,
        status=mission.status,
        visibility=mission.visibility,
        budget_kind=mission.budget_kind,
        budget_amount_minor=mission.budget_amount_minor,
        budget_days=mission.budget_days,
        currency=mission.currency,
        starts_on=mission.starts_on,
        ends_on=mission.ends_on,
        city=mission.city,
        region=mission.region,
        work_mode=mission.work_mode,
        seats=seats,
        open_seats=open_seats,
        relevance=None,
    )


class ProfileReviewsController(Controller):
    path = "/api/v1/profiles"
    tags = ["profiles"]

    @get(
        "/{account_id:uuid}/reviews",
        summary="Published reviews about a member, with the mission's title (where the profile is visible)",
        responses=problems(400, 401, 404),
    )
    async def profile_reviews(
        self,
        account_id: FromPath[uuid.UUID],
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ReviewOut]:
        rows, total = await missions.profile_reviews(viewer, account_id, limit, offset)
        return Page(items=[review_out(row, title) for row, title in rows], total=total, limit=limit, offset=offset)


class OrganisationReviewsController(Controller):
    path = "/api/v1/organisations"
    tags = ["missions"]

    @get(
        "/{organisation_id:uuid}/reviews",
        guards=[signed_in],
        summary="Published reviews about a client organisation on its missions (admitted members, its people, admins)",
        responses=problems(400, 401, 404),
    )
    async def organisation_reviews(
        self,
        organisation_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ReviewOut]:
        rows, total = await missions.organisation_reviews(current_account, organisation_id, limit, offset)
        return Page(items=[review_out(row, title) for row, title in rows], total=total, limit=limit, offset=offset)


class MatchingPolicyController(Controller):
    path = "/api/v1/matching/policy"
    tags = ["matching"]

    @get(
        guards=[signed_in],
        summary="The cooperative's matching settings (territorial fairness)",
        responses=problems(401),
    )
    async def get_policy(self, missions: NamedDependency[MissionService]) -> PolicyOut:
        return policy_out(await missions.policy())

    @put(
        guards=[admin_only],
        summary="Change the matching settings (administrators): 0 ignores proximity, 100 favours local members most",
        responses=problems(400, 401, 403, 413),
    )
    async def set_policy(self, data: JSONBody[PolicyInput], missions: NamedDependency[MissionService]) -> PolicyOut:
        return policy_out(await missions.set_policy(data.territorial_fairness, data.local_radius_km))
