"""PostgreSQL restarts and outages: 503 with Retry-After (never 500), recovery without a failed
request, and no acknowledged write lost.

These tests start their own embedded PostgreSQL and restart it; they never touch the server in
DATABASE_URL (other suites share it).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db import migrations
from app.db.embedded import EmbeddedPostgres
from app.db.url import asyncpg_dsn, to_async_url, with_database
from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD, Mailbox, free_port
from tests.integration.conftest import register


@pytest.fixture
async def own_server() -> AsyncIterator[tuple[EmbeddedPostgres, URL]]:
    data_dir = Path(tempfile.mkdtemp(prefix="coop-outage-pg-"))
    server = EmbeddedPostgres(data_dir)
    url = to_async_url(server.start())
    connection = await asyncpg.connect(asyncpg_dsn(url))
    await connection.execute("create database coop_outage")
    await connection.close()
    database_url = with_database(url, "coop_outage")
    await migrations.upgrade(database_url)
    yield server, database_url
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def outage_settings(
    own_server: tuple[EmbeddedPostgres, URL], smtp_server: tuple[Mailbox, int], signing_key_pem: str, tmp_path: Path
) -> Settings:
    _, url = own_server
    return Settings(
        database_url=url.render_as_string(hide_password=False),
        COOP_DATA_DIR=tmp_path,
        COOP_JWT_PRIVATE_KEYS=signing_key_pem,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        COOP_AUTH_RATE_LIMIT=100_000,
        COOP_PUBLIC_BASE_URL="http://coop.test",
        COOP_LOG_LEVEL="ERROR",
    )


def _assert_retryable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:coop:problem:service-unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_an_outage_answers_503_and_recovers_by_itself(
    own_server: tuple[EmbeddedPostgres, URL], outage_settings: Settings
) -> None:
    server, _ = own_server
    app = create_app(outage_settings, passwords=FAST_PASSWORDS)
    async with AsyncTestClient(app=app, base_url="http://coop.test") as client:
        member = await register(client)
        profiles = "/api/v1/profiles?q=designer"
        assert (await client.get(profiles, headers=member.headers)).status_code == 200  # fills both pools

        await asyncio.to_thread(server.stop_server)
        ready = await client.get("/health/ready")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        assert ready.json()["database"] == "down" and "unreachable" in ready.json()["reason"]
        _assert_retryable(await client.get("/api/v1/me", headers=member.headers))  # the auth read
        _assert_retryable(await client.get(profiles, headers=member.headers))  # a unit of work
        body = {"email": f"down.{uuid.uuid4().hex[:8]}@example.org", "password": TEST_PASSWORD, "display_name": "D"}
        _assert_retryable(await client.post("/api/v1/auth/register", json=body))  # a write

        await asyncio.to_thread(server.start_server)
        # Every pooled connection died with the old server: the first requests after the restart
        # get fresh ones, none fails.
        assert (await client.get("/health/ready")).status_code == 200
        assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200
        assert (await client.get(profiles, headers=member.headers)).status_code == 200
        assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a real uvicorn on a loopback port, in this event loop: requests run
    concurrently (the test client's transport serialises them)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, loop="none")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    try:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
            yield client
    finally:
        server.should_exit = True
        await task


async def test_a_restart_under_load_fails_no_request_with_500_and_loses_no_acknowledged_write(
    own_server: tuple[EmbeddedPostgres, URL], outage_settings: Settings
) -> None:
    server, url = own_server
    statuses: Counter[int] = Counter()
    after_restart: Counter[int] = Counter()
    acknowledged: list[str] = []
    restarted = asyncio.Event()
    stop = asyncio.Event()

    async with served(create_app(outage_settings, passwords=FAST_PASSWORDS)) as client:
        member = await register(client)  # type: ignore[arg-type]

        def record(response: httpx.Response) -> None:
            statuses[response.status_code] += 1
            if restarted.is_set():
                after_restart[response.status_code] += 1
            if response.status_code >= 500:
                _assert_retryable(response)

        async def reader() -> None:
            while not stop.is_set():
                record(await client.get("/api/v1/me", headers=member.headers))
                record(await client.get("/api/v1/profiles?q=python", headers=member.headers))

        async def writer(number: int) -> None:
            for attempt in range(100_000):
                if stop.is_set():
                    return
                email = f"load.{number}.{attempt}@example.org"
                response = await client.post(
                    "/api/v1/auth/register", json={"email": email, "password": TEST_PASSWORD, "display_name": "L"}
                )
                record(response)
                if response.status_code == 201:
                    acknowledged.append(email)

        workers = [asyncio.create_task(reader()) for _ in range(6)]
        workers += [asyncio.create_task(writer(number)) for number in range(3)]
        await asyncio.sleep(1.0)
        before = sum(statuses.values())
        await asyncio.to_thread(server.restart, down_seconds=0.5)
        restarted.set()
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*workers)

    assert before > 0, statuses
    assert set(statuses) <= {200, 201, 503}, statuses
    # Recovered by itself: reads and writes succeed again after the restart.
    assert after_restart[200] > 0 and after_restart[201] > 0, after_restart
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        stored = {row["email"] for row in await connection.fetch("select email from account")}
    finally:
        await connection.close()
    assert set(acknowledged) <= stored, "an acknowledged registration was lost"
