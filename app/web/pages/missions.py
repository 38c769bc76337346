"""Mission pages: browse and search, post with seats, apply, shortlist and accept, questions,
the lifecycle up to delivery, and the reviews published together. `MissionService` decides.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admitted_member, signed_in
from app.core.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from app.members.guards import client_or_admitted_member
from app.members.service import MemberService
from app.missions.schemas import ApplicationInput, MissionInput, QuestionInput, ReviewInput
from app.missions.service import TRANSITIONS, MissionSearch, MissionService, MissionView
from app.models import Account, Role
from app.web.forms import convert, form_data, minor_units, optional_int, query_text
from app.web.i18n import gettext
from app.web.rendering import FormRejected, field_errors, page, redirect

PAGE_SIZE = 20
SEAT_ROWS = 3
NEW_TEMPLATE = "missions/new.html"
SHOW_TEMPLATE = "missions/show.html"
EDIT_TEMPLATE = "missions/edit.html"
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
        data, context = await _mission_input(values, multi, members, current_account, NEW_TEMPLATE, {})
        try:
            view = await missions.create(current_account, data)
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected(NEW_TEMPLATE, context=context, errors=errors, summary=summary) from error
        return redirect(f"/missions/{view.mission.id}", "mission-created")

    # -- rewriting a draft (a diagnostic's draft, or any draft before it opens) ------------------------------

    @get("/{mission_id:uuid}/edit", guards=[signed_in])
    async def edit(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
    ) -> Template:
        view = await _draft_to_edit(missions, current_account, mission_id)
        mission = view.mission
        values = {
            "title": mission.title,
            "description": mission.description,
            "client_name": mission.client_name or "",
            "budget_kind": mission.budget_kind,
            "budget_amount": _major(mission.budget_amount_minor),
            "budget_days": "" if mission.budget_days is None else str(mission.budget_days),
            "starts_on": mission.starts_on.isoformat(),
            "ends_on": mission.ends_on.isoformat(),
            "city": mission.city,
            "region": mission.region,
            "work_mode": mission.work_mode,
            "visibility": mission.visibility,
        }
        seat_rows = [
            {
                "title": seat.title,
                "skill": "; ".join(skill.name for _, skill in skills),
                "day_rate": _major(seat.day_rate_minor),
                "days": "" if seat.days is None else str(seat.days),
            }
            for seat, skills, _ in view.seats
        ]
        seat_rows += _blank_seats()[: max(1, SEAT_ROWS - len(seat_rows))]
        return page(request, EDIT_TEMPLATE, mission=mission, values=values, seat_rows=seat_rows)

    @post("/{mission_id:uuid}/edit", guards=[signed_in])
    async def save_edit(
        self,
        request: Request,
        mission_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        members: NamedDependency[MemberService],
    ) -> Redirect:
        view = await _draft_to_edit(missions, current_account, mission_id)
        mission = view.mission
        # A seat's skills keep the level the draft asked for; a skill typed in anew asks for level 3.
        levels = {seat_skill.skill_id: seat_skill.min_level for _, skills, _ in view.seats for seat_skill, _ in skills}
        values, multi = await form_data(request)
        # What the page shows of the draft, read now: a refused form rolls back, which expires the row.
        shown = {"mission": {"id": mission.id, "title": mission.title}}
        data, context = await _mission_input(values, multi, members, current_account, EDIT_TEMPLATE, shown, levels)
        # What the form has no field for stays as the draft has it (the API's PUT would reset it).
        kept: dict[str, Any] = {
            "postal_code": mission.postal_code,
            "country": mission.country,
            "latitude": mission.latitude,
            "longitude": mission.longitude,
            "currency": mission.currency,
        }
        if current_account.role != Role.MEMBER:
            kept["client_name"] = mission.client_name  # only a member's form asks for the client's name
        data = msgspec.structs.replace(data, **kept)
        try:
            await missions.replace(current_account, mission_id, data)
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected(EDIT_TEMPLATE, context=context, errors=errors, summary=summary) from error
        return redirect(f"/missions/{mission_id}", "saved")

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


async def _draft_to_edit(missions: MissionService, viewer: Account, mission_id: uuid.UUID) -> MissionView:
    """The draft as its editor sees it; the service says the same (403, 409) when the form is sent."""
    mission = await missions.visible(viewer, mission_id)
    if viewer.id != mission.owner_id and viewer.role != Role.ADMIN:
        raise Forbidden("Only the mission's owner and administrators can do this.")
    if mission.status != "draft":
        raise Conflict("A mission can be rewritten while it is a draft; once open, its seats have applicants.")
    return await missions.view(viewer, mission)


def _major(minor: int | None) -> str:
    """Integer minor units as the form types them: "650" or "650,50"."""
    if minor is None:
        return ""
    whole, cents = divmod(minor, 100)
    return f"{whole},{cents:02d}" if cents else str(whole)


async def _mission_input(
    values: dict[str, str],
    multi: dict[str, list[str]],
    members: MemberService,
    account: Account,
    template: str,
    shown: dict[str, Any],
    levels: dict[uuid.UUID, int] | None = None,
) -> tuple[MissionInput, dict[str, Any]]:
    """The mission form (new or edit) as the feature's `MissionInput`, and the context to show it again.

    A seat's skills are typed as terms separated by semicolons (one for a new mission's main skill)."""
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
    context = {**shown, "values": values, "seat_rows": seat_rows or _blank_seats()}
    seats = []
    for index, row in enumerate(seat_rows):
        if not row["title"].strip():
            continue
        skills = []
        for term in (part.strip() for part in row["skill"].split(";")):
            if not term:
                continue
            skill = await members.skill_by_term(term)
            if skill is None:
                raise FormRejected(
                    template,
                    context=context,
                    errors={f"seat-{index}": gettext("Unknown skill: pick one from the suggestions.")},
                )
            if all(entry["skill_id"] != str(skill.id) for entry in skills):
                skills.append({"skill_id": str(skill.id), "min_level": (levels or {}).get(skill.id, 3)})
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
    if account.role == Role.MEMBER:
        body["client_name"] = values.get("client_name", "").strip() or None
    return convert(body, MissionInput, template, context), context
