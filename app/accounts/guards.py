"""Role guards, shared by every feature's controllers.

Async on purpose: Litestar runs a plain function guard in a worker thread, a thread hop on every
request for a check of two attributes.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.core.errors import Forbidden, NotAuthenticated
from app.models import Account, MemberStatus, Role


def signed_in_account(connection: ASGIConnection) -> Account:
    """The signed-in caller, read from the request. Hot handlers read it here rather than injecting
    `current_account` beside their service: two independent dependencies make Litestar resolve them
    in an anyio task group, 6-7 % of a proposal read's samples (bench/README.md)."""
    account = connection.scope.get("user")
    if account is None:
        raise NotAuthenticated()
    return account


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    signed_in_account(connection)


async def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if signed_in_account(connection).role != Role.ADMIN:
        raise Forbidden("Only the cooperative's administrators can do this.")


async def admitted_member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    account = signed_in_account(connection)
    if account.role != Role.MEMBER or account.member_status != MemberStatus.MEMBER:
        raise Forbidden("Only admitted members of the cooperative can do this.")


async def member_or_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if signed_in_account(connection).role not in (Role.MEMBER, Role.ADMIN):
        raise Forbidden("Only members and administrators can do this.")
