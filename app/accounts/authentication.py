"""Bearer-token authentication: verify the JWT, then check its session is alive (one query)."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.accounts.repository import active_account_for_session
from app.accounts.tokens import SigningKeys
from app.core.errors import InvalidToken


class BearerAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Anonymous requests pass with `user=None`; a present but bad token is refused outright."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("Use an `Authorization: Bearer <access token>` header.")
        signing_keys: SigningKeys = connection.app.state.signing_keys
        claims = signing_keys.verify(token.strip())
        if claims is None:
            raise InvalidToken()
        account = await active_account_for_session(connection.app.state.database, claims.account_id, claims.session_id)
        if account is None:
            raise InvalidToken("This session has ended; sign in again.")
        return AuthenticationResult(user=account, auth=claims)
