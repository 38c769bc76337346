"""Administration pages: the member register and admissions, client organisations, the statutes and
colleges, an assembly's bureau and second call, counting with the scrutineers' shares, the audit
log's head. The accounts and assemblies features decide; these pages read forms and call them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admin_only
from app.accounts.service import AccountService
from app.assemblies.closing import Closer
from app.assemblies.schemas import BureauInput, CountInput, SecondCallInput, StatutesInput
from app.assemblies.service import AssemblyService
from app.assemblies.statutes import colleges_of
from app.core.errors import AppError, InvalidInput
from app.models import Account, MemberStatus, Role
from app.web.forms import convert, form_data, optional_int
from app.web.pages.assemblies import local_datetime
from app.web.rendering import FormRejected, field_errors, page, redirect

PAGE_SIZE = 50
PRESETS = ("scop_sarl", "scop_sa", "scic_sas", "cae", "association")
STATUTES_TEMPLATE = "admin/statutes.html"
ASSEMBLY_TEMPLATE = "admin/assembly.html"


async def _refused(
    db_session: AsyncSession, template: str, error: AppError | FormRejected, context: Callable[[], Awaitable[dict]]
) -> FormRejected:
    """The page again with the errors, showing only what stands (the refused write undone first)."""
    await db_session.rollback()
    page_context = await context()
    db_session.expunge_all()  # what the page shows stays readable through the request's own rollback
    if isinstance(error, FormRejected):
        return FormRejected(template, {**page_context, **error.context}, error.errors, error.summary, error.status)
    summary, errors = field_errors(error)
    return FormRejected(template, page_context, errors, summary, error.status_code)


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    guards = [admin_only]

    # members

    @get("/members")
    async def members(self, request: Request, accounts: NamedDependency[AccountService]) -> Template:
        offset = max(0, min(optional_int(request.query_params.get("offset")) or 0, 10_000))
        rows, total = await accounts.list_accounts(role=Role.MEMBER, limit=PAGE_SIZE, offset=offset)
        return page(request, "admin/members.html", rows=rows, total=total, offset=offset, page_size=PAGE_SIZE)

    @post("/members/{account_id:uuid}/status")
    async def set_status(
        self, request: Request, account_id: FromPath[uuid.UUID], accounts: NamedDependency[AccountService]
    ) -> Redirect:
        values, _ = await form_data(request)
        try:
            status = MemberStatus(values.get("status", ""))
        except ValueError as error:
            raise InvalidInput.field("status", "Unknown membership status.") from error
        await accounts.set_member_status(account_id, status)
        return redirect("/admin/members", "admitted")

    # client organisations

    @get("/organisations")
    async def organisations(self, request: Request, accounts: NamedDependency[AccountService]) -> Template:
        offset = max(0, min(optional_int(request.query_params.get("offset")) or 0, 10_000))
        everyone = request.query_params.get("all") == "1"
        rows, total = await accounts.list_organisations(unverified_only=not everyone, limit=PAGE_SIZE, offset=offset)
        return page(
            request,
            "admin/organisations.html",
            rows=rows,
            total=total,
            offset=offset,
            page_size=PAGE_SIZE,
            everyone=everyone,
        )

    @post("/organisations/{organisation_id:uuid}/verify")
    async def verify_organisation(
        self,
        organisation_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        accounts: NamedDependency[AccountService],
    ) -> Redirect:
        await accounts.verify_organisation(current_account, organisation_id)
        return redirect("/admin/organisations", "organisation-verified")

    # statutes and colleges

    async def _statutes_context(self, assemblies: AssemblyService, accounts: AccountService) -> dict[str, Any]:
        current = await assemblies.current_statutes()
        people, _ = await accounts.list_accounts(role=None, limit=500, offset=0)
        document = current.document
        return {
            "statutes": current,
            "document": document,
            "colleges": sorted(colleges_of(document)),
            "people": [p for p in people if p.role != Role.ADMIN],
            "presets": PRESETS,
            "values": {"preset": document.get("preset", "scop_sarl")},
        }

    @get("/statutes")
    async def statutes(
        self,
        request: Request,
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
    ) -> Template:
        return page(request, STATUTES_TEMPLATE, **await self._statutes_context(assemblies, accounts))

    @post("/statutes")
    async def found_statutes(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        body: dict[str, Any] = {
            "preset": values.get("preset", ""),
            "chair_may_open_early": values.get("chair_may_open_early") == "on",
            "chair_may_close_early": values.get("chair_may_close_early") == "on",
        }
        if values.get("initiative_cosignatures", "").strip():
            body["initiative_cosignatures"] = optional_int(values.get("initiative_cosignatures")) or 0
        if values.get("default_college", "").strip():
            body["default_college"] = values["default_college"].strip()
        try:
            data = convert(body, StatutesInput, STATUTES_TEMPLATE, {"values": values})
            await assemblies.found_statutes(current_account, data)
        except (AppError, FormRejected) as error:
            raise await _refused(
                db_session, STATUTES_TEMPLATE, error, lambda: self._statutes_context(assemblies, accounts)
            ) from error
        return redirect("/admin/statutes", "saved")

    @post("/colleges")
    async def assign_college(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        try:
            try:
                account_id = uuid.UUID(values.get("account_id", ""))
            except ValueError as error:
                raise InvalidInput.field("account_id", "Choose a person.") from error
            college = values.get("college", "").strip()[:64] or None
            await assemblies.assign_college(current_account, account_id, college)
        except AppError as error:
            raise await _refused(
                db_session, STATUTES_TEMPLATE, error, lambda: self._statutes_context(assemblies, accounts)
            ) from error
        return redirect("/admin/statutes", "saved")

    # an assembly's bureau, second call and counts

    async def _assembly_context(
        self, account: Account, assembly_id: uuid.UUID, assemblies: AssemblyService, accounts: AccountService
    ) -> dict[str, Any]:
        assembly = await assemblies.visible_assembly(account, assembly_id)
        proposals, _ = await assemblies.list_proposals(
            account, assembly_id=assembly_id, state=None, limit=200, offset=0
        )
        people, _ = await accounts.list_accounts(role=None, limit=500, offset=0)
        bureau = assembly.bureau or {}
        return {
            "assembly": assembly,
            "proposals": sorted(proposals, key=lambda p: p.agenda_position or 0),
            "people": people,
            "trustees": set(bureau.get("trustees", [])),
            "values": {"threshold": str(bureau.get("threshold") or 1)},
        }

    @get("/assemblies/{assembly_id:uuid}")
    async def assembly(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
    ) -> Template:
        context = await self._assembly_context(current_account, assembly_id, assemblies, accounts)
        return page(request, ASSEMBLY_TEMPLATE, **context)

    @post("/assemblies/{assembly_id:uuid}/bureau")
    async def set_bureau(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, multi = await form_data(request)
        body = {"trustees": multi.get("trustee", [])[:21], "threshold": optional_int(values.get("threshold")) or 1}
        try:
            data = convert(body, BureauInput, ASSEMBLY_TEMPLATE, {})
            await assemblies.set_bureau(current_account, assembly_id, list(data.trustees), data.threshold)
        except (AppError, FormRejected) as error:
            raise await _refused(
                db_session,
                ASSEMBLY_TEMPLATE,
                error,
                lambda: self._assembly_context(current_account, assembly_id, assemblies, accounts),
            ) from error
        return redirect(f"/admin/assemblies/{assembly_id}", "saved")

    @post("/assemblies/{assembly_id:uuid}/second-call")
    async def second_call(
        self,
        request: Request,
        assembly_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        body = {
            name: local_datetime(values.get(name))
            for name in ("scheduled_at", "voting_opens_at", "voting_closes_at")
            if values.get(name, "").strip() or name == "scheduled_at"
        }
        try:
            data = convert(body, SecondCallInput, ASSEMBLY_TEMPLATE, {"values": values})
            second = await assemblies.second_call(current_account, assembly_id, data)
        except (AppError, FormRejected) as error:
            raise await _refused(
                db_session,
                ASSEMBLY_TEMPLATE,
                error,
                lambda: self._assembly_context(current_account, assembly_id, assemblies, accounts),
            ) from error
        return redirect(f"/assemblies/{second.id}", "done")

    @post("/proposals/{proposal_id:uuid}/count")
    async def count(
        self,
        request: Request,
        proposal_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
        closer: NamedDependency[Closer],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        """The chair brings the scrutineers' opened shares (one a line, from `coop trustee open-share`)."""
        values, _ = await form_data(request)
        shares = [line.strip() for line in values.get("shares", "").splitlines() if line.strip()]
        proposal = await assemblies.visible_proposal(current_account, proposal_id)
        assembly_id = proposal.assembly_id
        try:
            data = convert({"shares": shares[:21]}, CountInput, ASSEMBLY_TEMPLATE, {})
            await assemblies.require_counter(current_account, proposal_id)
            await closer.close(proposal_id, by=current_account, shares=list(data.shares), trustee=True)
        except (AppError, FormRejected) as error:
            if assembly_id is None:
                raise
            raise await _refused(
                db_session,
                ASSEMBLY_TEMPLATE,
                error,
                lambda: self._assembly_context(current_account, assembly_id, assemblies, accounts),
            ) from error
        return redirect(f"/proposals/{proposal_id}", "done")

    # the audit log

    @get("/audit")
    async def audit(
        self, request: Request, current_account: NamedDependency[Account], assemblies: NamedDependency[AssemblyService]
    ) -> Template:
        return page(request, "admin/audit.html", head=await assemblies.audit_head(current_account))
