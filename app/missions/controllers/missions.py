"""HTTP surface of /api/v1/missions (lifecycle, applications, questions, reviews, matches) and of the
signed-in account's missions, applications and matches (/api/v1/me/...)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import admitted_member, signed_in
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page, SearchText, ShortFilter, SkillFilters, WorkModes
from app.members.guards import client_or_admitted_member
from app.missions.controllers.responses import (
    ApplicationStatusText,
    ListedStatus,
    MissionId,
    application_out,
    mission_out,
    question_out,
    review_out,
    score_out,
    summary_out,
)
from app.missions.schemas import (
    AnswerInput,
    ApplicationInput,
    ApplicationOut,
    MemberMatchOut,
    MissionInput,
    MissionMatchOut,
    MissionOut,
    MissionSummaryOut,
    MyApplicationOut,
    MyEngagementOut,
    QuestionInput,
    QuestionOut,
    ReviewInput,
    ReviewOut,
    SeatMatchesOut,
    TransitionInput,
    TransitionOut,
)
from app.missions.service import MissionSearch, MissionService
from app.models import Account, Mission


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
