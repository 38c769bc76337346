"""The dashboard: what needs the visitor's attention, per role, gathered from the features' services.

Members see their profile's state, missions ranked for them (with the matching's explanation), the
votes open to them with their deadlines and the proxies they gave or hold; clients their missions;
administrators the applicants waiting and the assemblies in progress.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Template

from app.accounts.guards import signed_in
from app.accounts.service import AccountService
from app.assemblies.service import AssemblyService
from app.core.errors import AppError, NotFound
from app.members.service import MemberService
from app.missions.service import MissionService
from app.models import Account, MemberStatus, Role
from app.web.rendering import page

# When this browser last saw the dashboard: "what changed since" needs no table of its own.
SEEN_COOKIE = "coop_seen"


def _last_visit(value: str | None) -> datetime | None:
    if not value or not value.isdigit() or len(value) > 12:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _changes(since: datetime, mine: Any, applications: Any, engagements: Any, votes: Any) -> list[tuple[str, str, str]]:
    """(kind, title, link) of what moved after `since`, from what the dashboard already loaded."""
    changes = []
    for mission in mine:
        if mission.updated_at and mission.updated_at > since:
            changes.append(("mission", mission.title, f"/missions/{mission.id}"))
    for application, mission in applications:
        if application.decided_at and application.decided_at > since:
            changes.append(("application", mission.title, f"/missions/{mission.id}"))
    for engagement, mission in engagements:
        if engagement.created_at > since:
            changes.append(("engagement", mission.title, f"/missions/{mission.id}"))
    for proposal, _ in votes:
        if proposal.opened_at and proposal.opened_at > since:
            changes.append(("vote", proposal.title, f"/proposals/{proposal.id}"))
    return changes


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
        assemblies: NamedDependency[AssemblyService],
        accounts: NamedDependency[AccountService],
    ) -> Template:
        profile = None
        matches: list[Any] = []
        admitted = current_account.role == Role.MEMBER and current_account.member_status == MemberStatus.MEMBER
        if admitted:
            try:
                profile = (await members.own_profile(current_account)).profile
                matches, _ = await missions.matches_for_member(current_account, 5)
            except NotFound:
                profile = None
        mine, _, _ = await missions.mine(current_account, 20, 0)
        applications: list[tuple[Any, Any]] = []
        engagements: list[tuple[Any, Any]] = []
        if admitted:
            rows, _ = await missions.my_applications(current_account, None, 20, 0)
            applications = [(a, SimpleNamespace(id=a.mission_id, title=title)) for a, title in rows]
            engagements, _ = await missions.my_engagements(current_account, 20, 0)
        votes: list[tuple[Any, dict[str, Any]]] = []
        proxies: list[tuple[Any, list[Any]]] = []
        if admitted or current_account.role == Role.ADMIN:
            try:
                open_votes, _ = await assemblies.list_proposals(
                    current_account, assembly_id=None, state="open", limit=20, offset=0
                )
                votes = [(p, await assemblies.my_ballot(current_account, p.id)) for p in open_votes]
                current, _ = await assemblies.list_assemblies(current_account, limit=10, offset=0)
                for assembly in current:
                    if assembly.state in ("convened", "open"):
                        mine_proxies = await assemblies.proxies(current_account, assembly_id=assembly.id)
                        if mine_proxies and current_account.role != Role.ADMIN:
                            proxies.append((assembly, mine_proxies))
            except AppError:
                votes, proxies = [], []  # not a reader of assemblies (e.g. outside every college)
        since = _last_visit(request.cookies.get(SEEN_COOKIE))
        changes = _changes(since, mine, applications, engagements, votes) if since else []
        applicants = 0
        if current_account.role == Role.ADMIN:
            rows, _ = await accounts.list_accounts(role=Role.MEMBER, limit=500, offset=0)
            applicants = sum(1 for row in rows if row.member_status == MemberStatus.APPLICANT)
        response = page(
            request,
            "dashboard.html",
            since=since,
            changes=changes,
            profile=profile,
            admitted=admitted,
            my_missions=mine,
            applications=applications,
            engagements=engagements,
            matches=matches,
            votes=votes,
            proxies=proxies,
            applicants=applicants,
        )
        response.cookies.append(
            Cookie(
                key=SEEN_COOKIE,
                value=str(int(datetime.now(UTC).timestamp())),
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="lax",
            )
        )
        return response
