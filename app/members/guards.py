"""Guards the marketplace adds to the accounts feature's: who may propose skills and post missions."""

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


def _admitted(account: Account) -> bool:
    return account.role == Role.MEMBER and account.member_status == MemberStatus.MEMBER


async def admitted_member_or_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    account = _account(connection)
    if account.role != Role.ADMIN and not _admitted(account):
        raise Forbidden("Only admitted members and administrators can do this.")


async def client_or_admitted_member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Missions are posted by clients, or brought by admitted members on behalf of their clients."""
    account = _account(connection)
    if account.role != Role.CLIENT and not _admitted(account):
        raise Forbidden("Missions are posted by clients and by admitted members.")
