"""Seed services pages: skills from a CV, training paths, the needs diagnostic.

Every decision is the features' own (`CvService`, `TrainingService`, `DiagnosticService`); the
targets and answers are validated by their schemas (`PathRequest`, `DecisionInput`...), exactly as
the API's bodies are.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admitted_member, signed_in
from app.core.errors import AppError
from app.cv.service import CvService
from app.diagnostic.service import DiagnosticService, ResultView
from app.members.guards import client_or_admitted_member
from app.members.service import MemberService
from app.models import Account, MemberStatus, Role
from app.training.schemas import PathRequest
from app.training.service import PathView, TrainingService
from app.web.forms import clean, convert, form_data, optional_int, query_text
from app.web.i18n import gettext
from app.web.rendering import FormRejected, field_errors, page, redirect

CV_TEMPLATE = "seed/cv.html"
PATHS_TEMPLATE = "seed/paths.html"
DIAGNOSTIC_TEMPLATE = "seed/diagnostic.html"
# The file plus the multipart envelope, as the API's upload route allows; the service applies the
# configured file size (COOP_CV_MAX_BYTES) itself.
MAX_UPLOAD_BODY = 8 * 1024 * 1024
TARGET_ROWS = 3
ANSWER_PREFIX = "answer:"


async def _refused(
    db_session: AsyncSession,
    template: str,
    error: AppError | FormRejected,
    context: Callable[[], Awaitable[dict[str, Any]]],
) -> FormRejected:
    """The form again with its errors, showing only what stands: the refused write is undone before
    the page is read back, and what it shows is detached so the request's own rollback keeps it."""
    await db_session.rollback()
    page_context = await context()
    db_session.expunge_all()
    if isinstance(error, FormRejected):
        return FormRejected(template, {**page_context, **error.context}, error.errors, error.summary, error.status)
    summary, errors = field_errors(error)
    return FormRejected(template, page_context, errors, summary, error.status_code)


class CvPages(Controller):
    """A member's CVs: upload or paste one, review the suggested skills, accept them into the profile."""

    path = "/me/cv"
    include_in_schema = False
    guards = [admitted_member]

    async def _context(self, member: Account, cvs: CvService) -> dict[str, Any]:
        views, total = await cvs.extractions(member, 20, 0)
        return {"extractions": views, "total": total}

    @get()
    async def show(
        self, request: Request, current_account: NamedDependency[Account], cvs: NamedDependency[CvService]
    ) -> Template:
        return page(request, CV_TEMPLATE, **await self._context(current_account, cvs))

    @post(request_max_body_size=MAX_UPLOAD_BODY)
    async def upload(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        form = await request.form()
        upload = form.get("file")
        content = b""
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(cvs.max_bytes + 1)
            await upload.close()
        if not content:
            text = form.get("text")
            content = clean(text if isinstance(text, str) else "", cvs.max_bytes + 1).strip().encode()
        try:
            if not content:
                raise FormRejected(CV_TEMPLATE, errors={"file": gettext("Choose a file or paste the text of your CV.")})
            view = await cvs.analyse(current_account, content)
        except (AppError, FormRejected) as error:
            raise await _refused(db_session, CV_TEMPLATE, error, lambda: self._context(current_account, cvs)) from error
        return redirect(f"/me/cv#extraction-{view.extraction.id}", "cv-read")

    @post("/{extraction_id:uuid}/suggestions/{suggestion_id:uuid}")
    async def decide(
        self,
        request: Request,
        extraction_id: FromPath[uuid.UUID],
        suggestion_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        level = optional_int(values.get("level"))
        try:
            await cvs.decide(
                current_account,
                extraction_id,
                suggestion_id,
                accept=values.get("decision") == "accept",
                level=level if level is not None and 1 <= level <= 5 else None,
                years=None,
            )
        except AppError as error:
            raise await _refused(db_session, CV_TEMPLATE, error, lambda: self._context(current_account, cvs)) from error
        return redirect(f"/me/cv#extraction-{extraction_id}", "done")

    @post("/{extraction_id:uuid}/delete")
    async def forget(
        self,
        extraction_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
    ) -> Redirect:
        await cvs.forget(current_account, extraction_id)
        return redirect("/me/cv", "cv-forgotten")


def _target_rows(values: dict[str, list[str]]) -> list[dict[str, str]]:
    names, levels = values.get("skill", []), values.get("level", [])
    rows = [
        {"name": name.strip()[:120], "level": levels[i] if i < len(levels) else "3"} for i, name in enumerate(names)
    ]
    rows = rows[:TARGET_ROWS]
    return rows + [{"name": "", "level": "3"}] * (TARGET_ROWS - len(rows))


class TrainingPages(Controller):
    """The catalogue (anyone) and a member's training paths: plan toward a target, follow, mark done."""

    path = "/"
    include_in_schema = False

    @get("/trainings")
    async def catalogue(self, request: Request, trainings: NamedDependency[TrainingService]) -> Template:
        skill = query_text(request, "skill", 120)
        work_format = query_text(request, "format", 20)
        cpf = query_text(request, "cpf", 5)
        filters = {"skill": skill, "format": work_format, "cpf": cpf}
        try:
            views, total = await trainings.catalogue(
                skill=skill or None,
                cpf=True if cpf == "yes" else None,
                format=work_format if work_format in ("on_site", "remote", "hybrid") else None,
                include_inactive=False,
                limit=50,
                offset=0,
            )
        except AppError as error:
            summary, errors = field_errors(error)
            return page(
                request,
                "seed/trainings.html",
                status=error.status_code,
                trainings=[],
                total=0,
                values=filters,
                errors=errors,
                summary=summary,
            )
        return page(request, "seed/trainings.html", trainings=views, total=total, values=filters)

    async def _paths_context(
        self,
        member: Account,
        trainings: TrainingService,
        rows: list[dict[str, str]] | None = None,
        values: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        paths, total = await trainings.my_paths(member, 20, 0)
        return {
            "paths": paths,
            "total": total,
            "target_rows": rows or _target_rows({}),
            "plan": None,
            "values": values or {"optimise": "duration"},
        }

    @get("/me/training-paths", guards=[admitted_member])
    async def paths(
        self, request: Request, current_account: NamedDependency[Account], trainings: NamedDependency[TrainingService]
    ) -> Template:
        values = {
            "mission_id": query_text(request, "mission_id", 36),
            "seat_id": query_text(request, "seat_id", 36),
            "optimise": "duration",
        }
        return page(request, PATHS_TEMPLATE, **await self._paths_context(current_account, trainings, None, values))

    async def _request(self, values: dict[str, str], rows: list[dict[str, str]], members: MemberService) -> PathRequest:
        """The form's target as the feature's own `PathRequest` (skills typed by name, as on the profile)."""
        body: dict[str, Any] = {"optimise": values.get("optimise", "duration")}
        if values.get("mission_id") or values.get("seat_id"):
            body["mission_id"], body["seat_id"] = values.get("mission_id", ""), values.get("seat_id", "")
        else:
            body["skills"] = []
            for index, row in enumerate(rows):
                if not row["name"]:
                    continue
                skill = await members.skill_by_term(row["name"])
                if skill is None:
                    raise FormRejected(
                        PATHS_TEMPLATE,
                        errors={f"skill-{index}": gettext("Unknown skill: pick one from the suggestions.")},
                    )
                body["skills"].append({"skill_id": str(skill.id), "level": optional_int(row["level"]) or 0})
        return convert(body, PathRequest, PATHS_TEMPLATE, {})

    @post("/me/training-paths/plan", guards=[admitted_member])
    async def plan(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
        members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        values, multi = await form_data(request)
        rows = _target_rows(multi)
        try:
            planned = await trainings.plan(current_account, await self._request(values, rows, members))
        except (AppError, FormRejected) as error:
            raise await _refused(
                db_session, PATHS_TEMPLATE, error, lambda: self._paths_context(current_account, trainings, rows, values)
            ) from error
        context = await self._paths_context(current_account, trainings, rows, values)
        return page(request, PATHS_TEMPLATE, **{**context, "plan": planned})

    @post("/me/training-paths", guards=[admitted_member])
    async def follow(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
        members: NamedDependency[MemberService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, multi = await form_data(request)
        rows = _target_rows(multi)
        try:
            followed: PathView = await trainings.follow(current_account, await self._request(values, rows, members))
        except (AppError, FormRejected) as error:
            raise await _refused(
                db_session, PATHS_TEMPLATE, error, lambda: self._paths_context(current_account, trainings, rows, values)
            ) from error
        assert followed.path is not None
        return redirect(f"/me/training-paths/{followed.path.id}", "path-followed")

    @get("/me/training-paths/{path_id:uuid}", guards=[admitted_member])
    async def show_path(
        self,
        request: Request,
        path_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
    ) -> Template:
        return page(request, "seed/path.html", plan=await trainings.path(current_account, path_id))

    @post("/me/training-paths/{path_id:uuid}/steps/{step_id:uuid}/done", guards=[admitted_member])
    async def mark_done(
        self,
        path_id: FromPath[uuid.UUID],
        step_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
    ) -> Redirect:
        await trainings.mark_done(current_account, path_id, step_id)
        return redirect(f"/me/training-paths/{path_id}", "done")


class DiagnosticPages(Controller):
    """The needs diagnostic: answers draft a mission, each element saying which answers produced it."""

    path = "/diagnostic"
    include_in_schema = False

    def _questionnaire(
        self, diagnostics: DiagnosticService, chosen: dict[str, list[str]] | None = None
    ) -> dict[str, Any]:
        return {"questionnaire": diagnostics.questionnaire(), "chosen": chosen or {}}

    @get()
    async def questionnaire(self, request: Request, diagnostics: NamedDependency[DiagnosticService]) -> Template:
        return page(request, DIAGNOSTIC_TEMPLATE, **self._questionnaire(diagnostics))

    @post()
    async def take(
        self,
        request: Request,
        viewer: NamedDependency[Account | None],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> Template | Redirect:
        _, multi = await form_data(request)
        answers = {
            key.removeprefix(ANSWER_PREFIX)[:64]: [value[:64] for value in values[:20]]
            for key, values in list(multi.items())[:30]
            if key.startswith(ANSWER_PREFIX)
        }
        try:
            view = await diagnostics.take(viewer, answers)
        except AppError as error:
            summary, errors = field_errors(error)
            # "answers.<question>" names no field of the page: the messages go in the summary, unlinked.
            errors = {("_" if name == "answers" else name): message for name, message in errors.items()}
            raise FormRejected(
                DIAGNOSTIC_TEMPLATE, self._questionnaire(diagnostics, answers), errors, summary, error.status_code
            ) from error
        if viewer is not None:
            return redirect(f"/diagnostic/results/{view.result.id}")
        # Anonymous: the result is shown once, with the code that lets its taker keep it after signing in.
        return page(request, "seed/result.html", view=view, draft=view.draft, can_post=False)

    @post("/claim", guards=[signed_in])
    async def claim(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> Redirect:
        values, _ = await form_data(request)
        try:
            view = await diagnostics.claim(current_account, values.get("token", "").strip()[:128])
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected(
                DIAGNOSTIC_TEMPLATE, self._questionnaire(diagnostics), errors, summary, error.status_code
            ) from error
        return redirect(f"/diagnostic/results/{view.result.id}", "saved")

    @get("/results/{result_id:uuid}", guards=[signed_in])
    async def result(
        self,
        request: Request,
        result_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> Template:
        view = await diagnostics.get(current_account, result_id)
        return page(request, "seed/result.html", **_result_context(view, current_account))

    @post("/results/{result_id:uuid}/mission", guards=[client_or_admitted_member])
    async def post_mission(
        self,
        result_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        diagnostics: NamedDependency[DiagnosticService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        view = await diagnostics.get(current_account, result_id)
        try:
            mission_id, _ = await diagnostics.post_mission(current_account, result_id, view.draft.mission)
        except AppError as error:

            async def context() -> dict[str, Any]:
                return _result_context(await diagnostics.get(current_account, result_id), current_account)

            raise await _refused(db_session, "seed/result.html", error, context) from error
        return redirect(f"/missions/{mission_id}", "mission-created")


def _result_context(view: ResultView, viewer: Account) -> dict[str, Any]:
    # Who may post is the feature's guard (`client_or_admitted_member`); the page only hides the button.
    may_post = viewer.role == Role.CLIENT or (
        viewer.role == Role.MEMBER and viewer.member_status == MemberStatus.MEMBER
    )
    return {"view": view, "draft": view.draft, "can_post": view.result.mission_id is None and may_post}
