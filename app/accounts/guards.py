"""Role guards, shared by every feature's controllers.

Async on purpose: Litestar runs a plain function guard in a worker thread, a thread hop on every
request for a check of two attributes.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.core.errors import Forbidden, NotAuthenticated
from app.models import Account, MemberStatus, Role


def _account(connection: ASGIConnection) -> Account:
    account = connection.scope.get("user")
    if account is None:
        raise NotAuthenticated()
    return account


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _account(connection)


async def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if _account(connection).role != Role.ADMIN:
        raise Forbidden("Only the cooperative's administrators can do this.")


async def admitted_member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    account = _account(connection)
    if account.role != Role.MEMBER or account.member_status != MemberStatus.MEMBER:
        raise Forbidden("Only admitted members of the cooperative can do this.")


async def member_or_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if _account(connection).role not in (Role.MEMBER, Role.ADMIN):
        raise Forbidden("Only members and administrators can do this.")
