"""Live participation across two real `coop serve` processes (PostgreSQL LISTEN/NOTIFY channels)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from app.settings import Settings
from tests.conftest import TEST_PASSWORD
from tests.integration.conftest import create_admin_account, unique_email
from tests.integration.live import coop_server


def _member(client: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    email = unique_email("live")
    created = client.post(
        "/api/v1/auth/register", json={"email": email, "password": TEST_PASSWORD, "display_name": "Live Member"}
    )
    assert created.status_code == 201, created.text
    admitted = client.patch(
        f"/api/v1/accounts/{created.json()['id']}/member-status", json={"status": "member"}, headers=admin
    )
    assert admitted.status_code == 200, admitted.text
    token = client.post("/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_ballot_cast_on_one_process_shows_live_on_another(
    settings: Settings, database_url: URL, signing_key_pem: str, tmp_path: Path
) -> None:
    admin_email = asyncio.run(create_admin_account(settings, database_url))
    env = {"COOP_AUTH_RATE_LIMIT": "100000"}
    with (
        coop_server(database_url, tmp_path / "a", signing_key_pem, **env) as first,
        coop_server(database_url, tmp_path / "b", signing_key_pem, **env) as second,
        httpx.Client(base_url=first, timeout=10) as a,
        httpx.Client(base_url=second, timeout=10) as b,
    ):
        signed = a.post("/api/v1/auth/sign-in", json={"email": admin_email, "password": TEST_PASSWORD}).json()
        admin = {"Authorization": f"Bearer {signed['access_token']}"}
        voter, watcher = _member(a, admin), _member(a, admin)
        closes = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        proposal = a.post(
            "/api/v1/proposals",
            json={"title": "Live", "text": "Watch it.", "closes_at": closes, "secret": False, "results_visible": True},
            headers=admin,
        ).json()
        assert a.post(f"/api/v1/proposals/{proposal['id']}/open", headers=admin).status_code == 200

        events: list[dict] = []
        subscribed = threading.Event()

        def follow() -> None:
            with httpx.stream(
                "GET", f"{first}/api/v1/proposals/{proposal['id']}/live", headers=watcher, timeout=20
            ) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))
                        subscribed.set()
                        if events[-1].get("voted") == 1:
                            return

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        assert subscribed.wait(10)
        assert events[0]["voted"] == 0
        cast = b.post(f"/api/v1/proposals/{proposal['id']}/ballots", json={"choice": "yes"}, headers=voter)
        assert cast.status_code == 201, cast.text
        thread.join(15)
        assert events[-1]["voted"] == 1, events
        assert events[-1]["running"]["participation"]["counted"] == 1  # results visible: the running count
