"""Who is browsing, and in which language: the web routes' own middleware.

It reads the session cookie (see `session_cookie.py`) and, when the API's bearer middleware found no
token, checks in one query that the session is alive, the same query the bearer middleware runs.
It only ever applies to the web router: the API keeps its bearer tokens and never reads the cookie.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

from app.accounts.repository import active_account_for_session
from app.web.i18n import LOCALE_COOKIE, choose_locale, current_locale
from app.web.session_cookie import COOKIE_NAME, SessionCookies

# Every page is ours: scripts and styles come from /static, nothing inline, nothing elsewhere.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class WebContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection = ASGIConnection(scope, receive=receive)
        locale = choose_locale(connection.cookies.get(LOCALE_COOKIE), connection.headers.get("accept-language"))
        scope.setdefault("state", {})["locale"] = locale
        token = current_locale.set(locale)
        try:
            if scope.get("user") is None:
                await self._authenticate(connection, scope)
            await self.app(scope, receive, _with_csp(send))
        finally:
            current_locale.reset(token)

    async def _authenticate(self, connection: ASGIConnection, scope: Scope) -> None:
        cookies: SessionCookies = connection.app.state.web_cookies
        session = cookies.decode(connection.cookies.get(COOKIE_NAME))
        if session is None:
            return
        account = await active_account_for_session(
            connection.app.state.database, session.account_id, session.session_id
        )
        if account is not None:
            scope["user"] = account
            scope["auth"] = session


def _with_csp(send: Send) -> Send:
    async def send_with_csp(message):  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            headers = list(message["headers"])
            if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                headers.append((b"content-security-policy", WEB_CSP.encode()))
            message["headers"] = headers
        await send(message)

    return send_with_csp
