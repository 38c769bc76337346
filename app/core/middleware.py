"""Edge middleware: a request id on every response, security headers, structured access logs."""

from __future__ import annotations

import logging
import re
import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
# The interactive docs load their scripts, so only API responses get the strict policy.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

access_log = structlog.get_logger("coop.access")
# The level is checked on the standard logger before the event is built: structlog runs its whole
# processor chain (context, timestamp, redaction) before the standard logger drops an event below
# its level, 2.3 % of a request's samples under COOP_LOG_LEVEL=WARNING (bench/README.md).
_access_level = logging.getLogger("coop.access")


def request_id_middleware(app: ASGIApp, *, https: bool = False) -> ASGIApp:
    """`https`: the public URL is https (TLS may end at a proxy, so the scheme we see is no guide)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        started = time.perf_counter()
        status_holder: dict[str, int] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers["x-request-id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith("/schema"):
                    headers.setdefault("content-security-policy", API_CSP)
                if https or scope.get("scheme") == "https":
                    headers.setdefault("strict-transport-security", "max-age=31536000; includeSubDomains")
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_headers)
            finally:
                # Only the path: query strings may carry tokens (verification links, OIDC codes).
                if _access_level.isEnabledFor(logging.INFO):
                    access_log.info(
                        "request",
                        method=scope.get("method"),
                        path=path,
                        status=status_holder.get("status"),
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )

    return middleware
