"""Who may use a member's vault: member accounts (applicants and departed members too: their data is theirs)."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.core.errors import Forbidden, NotAuthenticated
from app.models import Role


def vault_member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    account = connection.scope.get("user")
    if account is None:
        raise NotAuthenticated()
    if account.role != Role.MEMBER:
        raise Forbidden("The data vault belongs to members.")
