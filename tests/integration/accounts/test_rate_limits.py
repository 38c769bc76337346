"""Registration, reset and verification are rate limited per real client address (sign-in, refresh
and sign-out have their own limits: see test_fair_limits.py).

Run against real `coop serve` processes: two processes share the limit through PostgreSQL
(the default store without Redis), and X-Forwarded-For is only believed from a trusted proxy.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from tests.integration.live import coop_server

WRONG = {"email": "nobody@example.org", "password": "wrong password, of course"}


def test_limit_holds_across_processes_and_ignores_spoofed_forwarded_for(
    database_url: URL, tmp_path: Path, signing_key_pem: str
) -> None:
    with (
        coop_server(database_url, tmp_path, signing_key_pem, COOP_AUTH_RATE_LIMIT="3") as first,
        coop_server(database_url, tmp_path, signing_key_pem, COOP_AUTH_RATE_LIMIT="3") as second,
    ):
        statuses = [
            httpx.post(f"{first}/api/v1/auth/password-reset/request", json={"email": "a@example.org"}).status_code,
            httpx.post(f"{second}/api/v1/auth/password-reset/request", json={"email": "b@example.org"}).status_code,
            httpx.post(f"{first}/api/v1/auth/password-reset/request", json={"email": "c@example.org"}).status_code,
        ]
        assert statuses == [202, 202, 202]
        # Sign-in failures are counted per account and per address, not by this ceiling.
        assert httpx.post(f"{second}/api/v1/auth/sign-in", json=WRONG).status_code == 401
        for server, spoofed in ((second, "198.51.100.1"), (first, "198.51.100.2")):
            limited = httpx.post(
                f"{server}/api/v1/auth/register",
                json={"email": "x@example.org", "password": "p", "display_name": "x"},
                headers={"X-Forwarded-For": spoofed, "X-Real-IP": spoofed},
            )
            assert limited.status_code == 429
            assert limited.headers["content-type"].startswith("application/problem+json")
            assert limited.json()["type"] == "urn:coop:problem:rate-limited"
            assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Routes outside auth are not limited.
        assert httpx.get(f"{first}/health/live").status_code == 200


def test_forwarded_for_is_believed_from_a_trusted_proxy(
    database_url: URL, tmp_path: Path, signing_key_pem: str
) -> None:
    with coop_server(
        database_url, tmp_path, signing_key_pem, COOP_AUTH_RATE_LIMIT="2", COOP_TRUSTED_PROXIES="127.0.0.1/32"
    ) as server:

        def attempt(client_ip: str) -> int:
            return httpx.post(
                f"{server}/api/v1/auth/password-reset/request",
                json={"email": "someone@example.org"},
                headers={"X-Forwarded-For": f"{client_ip}, 127.0.0.1"},
            ).status_code

        assert [attempt("203.0.113.7") for _ in range(3)] == [202, 202, 429]
        # Another client behind the same proxy has its own allowance.
        assert attempt("203.0.113.8") == 202
