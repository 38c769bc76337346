"""Profile pages: search, public profile with reviews and attested skills, edit and publish one's own.

The form is validated by the members feature's own `ProfileInput` schema and saved by
`MemberService`; skills typed by name are resolved through the référentiel (with suggestions).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import admitted_member
from app.core.errors import AppError, NotFound
from app.members.schemas import ProfileInput
from app.members.service import MemberService, ProfileSearch, ProfileView
from app.missions.service import MissionService
from app.models import Account
from app.web.forms import convert, form_data, minor_units, optional_int, query_text
from app.web.i18n import gettext
from app.web.rendering import FormRejected, field_errors, page, redirect

PAGE_SIZE = 20
EMPTY_SKILL_ROWS = 3
EDIT_TEMPLATE = "profiles/edit.html"


def _profile_values(view: ProfileView | None, account: Account) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if view is None:
        return {"display_name": account.display_name, "work_mode": "hybrid", "visibility": "members"}, []
    profile = view.profile
    values = {
        "display_name": profile.display_name,
        "headline": profile.headline,
        "bio": profile.bio,
        "day_rate_min": f"{profile.day_rate_min_minor / 100:g}",
        "day_rate_max": f"{profile.day_rate_max_minor / 100:g}",
        "city": profile.city,
        "postal_code": profile.postal_code,
        "region": profile.region,
        "work_mode": profile.work_mode,
        "visibility": profile.visibility,
        "contact_email": profile.contact_email or "",
    }
    skills = [{"name": skill.name, "level": row.level, "years": row.years} for row, skill, _ in view.skills]
    return values, skills


def _skill_rows(skills: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*skills, *({"name": "", "level": 3, "years": 0} for _ in range(EMPTY_SKILL_ROWS))]


class ProfilePages(Controller):
    include_in_schema = False

    @get("/profiles")
    async def search(
        self, request: Request, members: NamedDependency[MemberService], viewer: NamedDependency[Account | None]
    ) -> Template:
        q = query_text(request, "q")
        skill = query_text(request, "skill", 120)
        region = query_text(request, "region", 120)
        work_mode = query_text(request, "work_mode", 20)
        offset = max(0, min(optional_int(request.query_params.get("offset")) or 0, 10_000))
        values = {"q": q, "skill": skill, "region": region, "work_mode": work_mode}
        errors: dict[str, str] = {}
        rows: list[Any] = []
        skills: dict[Any, Any] = {}
        total = 0
        try:
            rows, skills, total = await members.search(
                viewer,
                ProfileSearch(
                    q=q or None,
                    skills=(skill,) if skill else (),
                    region=region or None,
                    work_modes=(work_mode,) if work_mode in ("on_site", "remote", "hybrid") else (),
                    limit=PAGE_SIZE,
                    offset=offset,
                ),
            )
        except AppError as error:
            _, errors = field_errors(error)
        return page(
            request,
            "profiles/search.html",
            values=values,
            errors=errors,
            rows=rows,
            skills=skills,
            total=total if offset else max(total, len(rows)),
            offset=offset,
            page_size=PAGE_SIZE,
        )

    @get("/profiles/{account_id:uuid}")
    async def profile(
        self,
        request: Request,
        account_id: FromPath[uuid.UUID],
        members: NamedDependency[MemberService],
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
    ) -> Template:
        view = await members.visible_profile(viewer, account_id)
        reviews, review_total = await missions.profile_reviews(viewer, account_id, 20, 0)
        return page(request, "profiles/show.html", view=view, reviews=reviews, review_total=review_total)

    @get("/skills/suggest")
    async def suggest_skills(self, request: Request, members: NamedDependency[MemberService]) -> Template:
        """Options for the skill fields' shared datalist, fetched by htmx as the member types."""
        q = query_text(request, "q", 60) or query_text(request, "skill", 60)
        found, _ = await members.skills(q=q or None, category=None, status=None, limit=20, offset=0) if q else ([], 0)
        return page(request, "profiles/_skill_options.html", skills=found)

    @get("/me/profile", guards=[admitted_member])
    async def edit(
        self, request: Request, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> Template:
        try:
            view: ProfileView | None = await members.own_profile(current_account)
        except NotFound:
            view = None
        values, skills = _profile_values(view, current_account)
        return page(request, EDIT_TEMPLATE, values=values, skill_rows=_skill_rows(skills), view=view)

    @post("/me/profile", guards=[admitted_member])
    async def save(
        self, request: Request, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> Redirect:
        values, multi = await form_data(request)
        typed = [
            {"name": name.strip(), "level": level, "years": years}
            for name, level, years in zip(
                multi.get("skill", []), multi.get("level", []), multi.get("years", []), strict=False
            )
            if name.strip()
        ]
        context = {"values": values, "skill_rows": _skill_rows(typed), "view": None}
        skills = []
        for index, entry in enumerate(typed):
            skill = await members.skill_by_term(entry["name"])
            if skill is None:
                raise FormRejected(
                    EDIT_TEMPLATE,
                    context=context,
                    errors={f"skill-{index}": gettext("Unknown skill: pick one from the suggestions.")},
                )
            skills.append(
                {
                    "skill_id": str(skill.id),
                    "level": optional_int(entry["level"]) or 0,
                    "years": optional_int(entry["years"]) or 0,
                }
            )
        body = {
            "display_name": values.get("display_name", "").strip(),
            "headline": values.get("headline", "").strip(),
            "bio": values.get("bio", "").replace("\r\n", "\n"),
            "skills": skills,
            "day_rate_min_minor": minor_units(values.get("day_rate_min")),
            "day_rate_max_minor": minor_units(values.get("day_rate_max")),
            "city": values.get("city", "").strip(),
            "postal_code": values.get("postal_code", "").strip(),
            "region": values.get("region", "").strip(),
            "work_mode": values.get("work_mode", ""),
            "visibility": values.get("visibility", "members"),
            "contact_email": values.get("contact_email", "").strip() or None,
        }
        data = convert(body, ProfileInput, EDIT_TEMPLATE, context)
        try:
            await members.save_profile(current_account, data)
        except AppError as error:
            summary, errors = field_errors(error)
            raise FormRejected(EDIT_TEMPLATE, context=context, errors=errors, summary=summary) from error
        return redirect("/me/profile", "saved")

    @post("/me/profile/publish", guards=[admitted_member])
    async def publish(
        self, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> Redirect:
        await members.set_published(current_account, True)
        return redirect(f"/profiles/{current_account.id}", "published")

    @post("/me/profile/unpublish", guards=[admitted_member])
    async def unpublish(
        self, current_account: NamedDependency[Account], members: NamedDependency[MemberService]
    ) -> Redirect:
        await members.set_published(current_account, False)
        return redirect("/me/profile", "unpublished")
