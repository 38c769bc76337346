"""Mission pages: browse and search, post with seats, apply, shortlist and accept, questions,
the lifecycle up to delivery, and the reviews published together. `MissionService` decides.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admitted_member, signed_in
from app.core.errors import AppError, InvalidInput, NotFound
from app.members.guards import client_or_admitted_member
from app.members.service import MemberService
from app.missions.schemas import ApplicationInput, MissionInput, QuestionInput, ReviewInput
from app.missions.service import TRANSITIONS, MissionSearch, MissionService
from app.models import Account, Role
from app.web.forms import convert, form_data, minor_units, optional_int, query_text
from app.web.i18n import gettext
from app.web.rendering import FormRejected, field_errors, page, redirect

PAGE_SIZE = 20
SEAT_ROWS = 3
NEW_TEMPLATE = "missions/new.html"
SHOW_TEMPLATE = "missions/show.html"
DECISIONS = ("shortlist", "accept", "decline", "withdraw")


def _blank_seats() -> list[dict[str, str]]:
    return [{"title": "", "skill": "", "day_rate": "", "days": ""} for _ in range(SEAT_ROWS)]


class MissionPages(Controller):
    path = "/missions"
    include_in_schema = False

    @get()
    async def browse(
        self, request: Request, missions: NamedDependency[MissionService], viewer: NamedDependency[Account | None]
    ) -> Template:
        values = {name: query_text(request, name) for name in ("q", "skill", "region", "work_mode")}
        offset = max(0, min(optional_int(request.query_params.get("offset")) or 0, 10_000))
        rows: list[Any] = []
        errors: dict[str, str] = {}
        try:
            rows, _ = await missions.search(
                viewer,
                MissionSearch(
                    q=values["q"] or None,
                    skills=(values["skill"],) if values["skill"] else (),
                    region=values["region"] or None,
                    work_modes=(values["work_mode"],) if values["work_mode"] in ("on_site", "remote", "hybrid") else (),
                    limit=PAGE_SIZE,
                    offset=offset,
                ),
            )
        except AppError as error:
            _, errors = field_errors(error)
        return page(
            request, "missions/browse.html", values=values, errors=errors, rows=rows, offset=offset, page_size=PAGE_SIZE
        )

    @get("/new", guards=[client_or_admitted_member])
    async def new(self, request: Request) -> Template:
        return page(
            request,
            NEW_TEMPLATE,
            values={"budget_kind": "fixed", "work_mode": "hybrid", "visibility": "public"},
            seat_rows=_blank_seats(),
        )

    @post("/new", guards=[client_or_admitted_member])
    async def create(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
    ) -> Redirect:
        values, multi = await form_data(request)
        seat_rows = [
            {"title": t, "skill": s, "day_rate": r, "days": d}
            for t, s, r, d in zip(
                multi.get("seat_title", []),
                multi.get("seat_skill", []),
                multi.get("seat_day_rate", []),
                multi.get("seat_days", []),
                strict=False,
            )
        ]
        context = {"values": values, "seat_rows": seat_rows or _blank_seats()}
        seats = []
        for index, row in enumerate(seat_rows):
            if not row["title"].strip():
                continue
            skills = []
            if row["skill"].strip():
                skill = await members.skill_by_term(row["skill"])
                if skill is None:
                    raise FormRejected(
                        NEW_TEMPLATE,
                        context=context,
                        errors={f"seat-{index}": gettext("Unknown skill: pick one from the suggestions.")},
                    )
                skills.append({"skill_id": str(skill.id), "min_level": 3})
            seats.append(
                {
                    "title": row["title"].strip(),
                    "skills": skills,
                    "day_rate_minor": minor_units(row["day_rate"]),
                    "days": optional_int(row["days"]),
                }
            )
        body = {
            "title": values.get("title", "").strip(),
            "description": values.get("description", "").replace("\r\n", "\n").strip(),
            "budget_kind": values.get("budget_kind", "fixed"),
            "budget_amount_minor": minor_units(values.get("budget_amount")),
            "budget_days": optional_int(values.get("budget_days")),
            "starts_on": values.get("starts_on") or None,
            "ends_on": values.get("ends_on") or None,
            "city": values.get("city", "").strip(),
            "region": values.get("region", "").strip(),
            "work_mode": values.get("work_mode", "hybrid"),
            "visibility": values.get("visibility", "public"),
            "seats": seats,
        }
        if current_account.role == Role.MEMBER:
            body["client_name"] = values.get("client_name", "").strip() or None
        data = convert(body, MissionInput, NEW_TEMPLATE, context)
        try:
            view = await missions.create(current_account, data)
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected(NEW_TEMPLATE, context=context, errors=errors, summary=summary) from error
        return redirect(f"/missions/{view.mission.id}", "mission-created")

    @get("/{mission_id:uuid}")
    async def show(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
        viewer: NamedDependency[Account | None],
    ) -> Template:
        return page(request, SHOW_TEMPLATE, **await self._context(mission_id, missions, members, viewer))

    async def _context(
        self, mission_id: uuid.UUID, missions: MissionService, members: MemberService, viewer: Account | None
    ) -> dict[str, Any]:
        mission = await missions.visible(viewer, mission_id)
        view = await missions.view(viewer, mission)
        manager = viewer is not None and (viewer.id == mission.owner_id or viewer.role == Role.ADMIN)
        applications = (await missions.applications(viewer, mission_id, 100, 0))[0] if viewer is not None else []
        people_ids = {a.member_id for a in applications} | {e.member_id for e in view.engagements or []}
        people = {pid: await _name(members, viewer, pid) for pid in people_ids}
        engaged = {e.member_id for e in view.engagements or []}
        reviewable = (
            []
            if viewer is None
            else [
                (pid, people.get(pid) or gettext("The client"))
                for pid in (engaged | {mission.owner_id})
                if pid != viewer.id and (viewer.id in engaged or viewer.id == mission.owner_id)
            ]
        )
        return {
            "view": view,
            "mission": mission,
            "manager": manager,
            "next_states": sorted(TRANSITIONS[mission.status]) if manager else [],
            "applications": applications,
            "people": people,
            "questions": (await missions.questions(viewer, mission_id, 100, 0))[0],
            "reviews": (await missions.mission_reviews(viewer, mission_id, 100, 0))[0],
            "reviewable": reviewable,
            "values": {},
        }

    async def _rejected(
        self,
        db_session: AsyncSession,
        error: AppError | FormRejected,
        mission_id: uuid.UUID,
        missions: MissionService,
        members: MemberService,
        viewer: Account,
        values: dict[str, str],
    ) -> FormRejected:
        # Undo the refused write before reading the page back, so it shows only what stands.
        await db_session.rollback()
        context = await self._context(mission_id, missions, members, viewer)
        # The request's unit of work rolls back again as the error passes: keep what the page shows.
        db_session.expunge_all()
        if isinstance(error, FormRejected):
            return FormRejected(SHOW_TEMPLATE, {**context, "values": values}, error.errors, error.summary)
        summary, errors = field_errors(error)
        return FormRejected(SHOW_TEMPLATE, {**context, "values": values}, errors, summary, error.status_code)

    @post("/{mission_id:uuid}/transition", guards=[signed_in])
    async def transition(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        try:
            await missions.transition(current_account, mission_id, values.get("to", "")[:20])
        except AppError as error:
            raise await self._rejected(
                db_session, error, mission_id, missions, members, current_account, values
            ) from error
        return redirect(f"/missions/{mission_id}", "done")

    @post("/{mission_id:uuid}/apply", guards=[admitted_member])
    async def apply(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        body = {
            "seat_id": values.get("seat_id", ""),
            "message": values.get("message", "").strip(),
            "proposed_day_rate_minor": minor_units(values.get("proposed_day_rate")),
        }
        try:
            data = convert(body, ApplicationInput, SHOW_TEMPLATE, {})
            await missions.apply(current_account, mission_id, data.seat_id, data.message, data.proposed_day_rate_minor)
        except (AppError, FormRejected) as error:
            raise await self._rejected(
                db_session, error, mission_id, missions, members, current_account, values
            ) from error
        return redirect(f"/missions/{mission_id}", "applied")

    @post("/{mission_id:uuid}/applications/{application_id:uuid}/{action:str}", guards=[signed_in])
    async def decide(
        self,
        mission_id: FromPath[uuid.UUID],
        application_id: FromPath[uuid.UUID],
        action: FromPath[str],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> Redirect:
        if action not in DECISIONS:
            raise NotFound()
        await missions.decide(current_account, mission_id, application_id, action)
        return redirect(f"/missions/{mission_id}", "done")

    @post("/{mission_id:uuid}/questions", guards=[admitted_member])
    async def ask(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        try:
            data = convert({"body": values.get("body", "").strip()}, QuestionInput, SHOW_TEMPLATE, {})
            await missions.ask(current_account, mission_id, data.body)
        except (AppError, FormRejected) as error:
            raise await self._rejected(
                db_session, error, mission_id, missions, members, current_account, values
            ) from error
        return redirect(f"/missions/{mission_id}#questions", "done")

    @post("/{mission_id:uuid}/questions/{question_id:uuid}/answer", guards=[signed_in])
    async def answer(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        question_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> Redirect:
        values, _ = await form_data(request)
        answer = values.get("answer", "").strip()
        if not answer:
            raise InvalidInput.field("answer", "Write an answer.")
        await missions.answer(current_account, mission_id, question_id, answer[:5000])
        return redirect(f"/missions/{mission_id}#questions", "done")

    @post("/{mission_id:uuid}/reviews", guards=[signed_in])
    async def review(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, multi = await form_data(request)
        body = {
            "subject_id": values.get("subject_id", ""),
            "rating": optional_int(values.get("rating")),
            "text": values.get("text", "").strip(),
            "skills_seen": multi.get("skills_seen", []),
        }
        try:
            data = convert(body, ReviewInput, SHOW_TEMPLATE, {})
            await missions.review(
                current_account,
                mission_id,
                subject_id=data.subject_id,
                rating=data.rating,
                text=data.text,
                skills_seen=data.skills_seen,
            )
        except (AppError, FormRejected) as error:
            raise await self._rejected(
                db_session, error, mission_id, missions, members, current_account, values
            ) from error
        return redirect(f"/missions/{mission_id}#reviews", "done")


async def _name(members: MemberService, viewer: Account | None, account_id: uuid.UUID) -> str | None:
    """The person's name as their profile shows it to this viewer; nothing if it is not visible."""
    try:
        return (await members.visible_profile(viewer, account_id)).profile.display_name
    except NotFound:
        return None
