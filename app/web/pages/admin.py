"""Administration pages: the member register and admissions (the accounts feature decides)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import admin_only
from app.accounts.service import AccountService
from app.core.errors import InvalidInput
from app.models import MemberStatus, Role
from app.web.forms import form_data, optional_int
from app.web.rendering import page, redirect

PAGE_SIZE = 50


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    guards = [admin_only]

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
