"""The browser's session cookie: a row of the same `auth_session` table the API tokens use.

The cookie names the account and the session and carries their absolute expiry, signed with an HMAC
keyed from `COOP_SECRET_KEY`. It proves nothing by itself: each request also checks, in the
database, that the session is still alive, so signing out anywhere or an administrator ending the
session ends it for the browser and the API alike. It never holds a password, a refresh token or
anything the API would accept as a bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

COOKIE_NAME = "coop_session"
_VERSION = "v1"


@dataclass(frozen=True)
class CookieSession:
    account_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


class SessionCookies:
    def __init__(self, secret_key: str) -> None:
        # A key of its own, so a MAC made here is never valid anywhere else the secret is used.
        self._key = hmac.new(secret_key.encode(), b"coop web session cookie", hashlib.sha256).digest()

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, session: CookieSession) -> str:
        payload = f"{_VERSION}.{session.account_id.hex}.{session.session_id.hex}.{int(session.expires_at.timestamp())}"
        return f"{payload}.{self._mac(payload)}"

    def decode(self, value: str | None, *, now: datetime | None = None) -> CookieSession | None:
        if not value or len(value) > 200:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            version, account_hex, session_hex, expires_text = payload.split(".")
            if version != _VERSION:
                return None
            expires_at = datetime.fromtimestamp(int(expires_text), UTC)
            session = CookieSession(uuid.UUID(hex=account_hex), uuid.UUID(hex=session_hex), expires_at)
        except ValueError:
            return None
        if session.expires_at <= (now or datetime.now(UTC)):
            return None
        return session
