"""The dashboard: what needs the visitor's attention, per role, gathered from the features' services."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from app.accounts.guards import signed_in
from app.core.errors import NotFound
from app.members.service import MemberService
from app.missions.service import MissionService
from app.models import Account, MemberStatus, Role
from app.web.rendering import page


class DashboardPages(Controller):
    path = "/dashboard"
    include_in_schema = False
    guards = [signed_in]

    @get()
    async def dashboard(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        members: NamedDependency[MemberService],
        missions: NamedDependency[MissionService],
    ) -> Template:
        profile = None
        admitted = current_account.role == Role.MEMBER and current_account.member_status == MemberStatus.MEMBER
        if admitted:
            try:
                profile = (await members.own_profile(current_account)).profile
            except NotFound:
                profile = None
        mine, _, _ = await missions.mine(current_account, 20, 0)
        return page(request, "dashboard.html", profile=profile, admitted=admitted, my_missions=mine)
