"""Edge middleware: a request id on every response, security headers, structured access logs."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable

import structlog
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
HSTS = "max-age=31536000; includeSubDomains"

# Raw ASGI header pairs, encoded once: Litestar's MutableScopeHeaders re-scans the header list for
# every setdefault (3.3 % of a proposal read's samples, bench/README.md).
_SECURITY_PAIRS = tuple((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
_CSP_PAIR = (b"content-security-policy", API_CSP.encode())
_HSTS_PAIR = (b"strict-transport-security", HSTS.encode())

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
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        request_id_pair = (b"x-request-id", request_id.encode())
        secure = https or scope.get("scheme") == "https"
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        started = time.perf_counter()
        status_holder: dict[str, int] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = _with_edge_headers(
                    message.get("headers", ()), request_id_pair, csp=not path.startswith("/schema"), hsts=secure
                )
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


def _with_edge_headers(
    headers: Iterable[tuple[bytes, bytes]], request_id: tuple[bytes, bytes], *, csp: bool, hsts: bool
) -> list[tuple[bytes, bytes]]:
    """The response's headers with our request id (ours replaces any other) and the security headers
    the handler did not set itself (a page may set its own policy)."""
    pairs = [(name, value) for name, value in headers if name.lower() != b"x-request-id"]
    present = {name.lower() for name, _ in pairs}
    pairs.append(request_id)
    pairs.extend(pair for pair in _SECURITY_PAIRS if pair[0] not in present)
    if csp and _CSP_PAIR[0] not in present:
        pairs.append(_CSP_PAIR)
    if hsts and _HSTS_PAIR[0] not in present:
        pairs.append(_HSTS_PAIR)
    return pairs
