"""The embedded PostgreSQL keeps its data across runs and stops when its last user goes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.db.embedded import EmbeddedPostgres
from app.db.url import asyncpg_dsn, to_async_url
from tests.conftest import free_port


@pytest.fixture
def data_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="coop-embedded-"))
    yield path  # type: ignore[misc]
    shutil.rmtree(path, ignore_errors=True)


async def _query(url: str, sql: str) -> object:
    connection = await asyncpg.connect(asyncpg_dsn(to_async_url(url)))
    try:
        if sql.lstrip().lower().startswith("select"):
            return await connection.fetchval(sql)
        return await connection.execute(sql)
    finally:
        await connection.close()


async def test_data_survives_a_restart_and_a_dead_user_does_not_keep_it_running(data_dir: Path) -> None:
    first = EmbeddedPostgres(data_dir)
    url = first.start()
    await _query(url, "create table kept (value text); insert into kept values ('still here')")
    # A process that was killed without cleaning up is still listed as a user of the server.
    handles = data_dir / "pgdata" / ".handle_pids.json"
    handles.write_text(json.dumps([*json.loads(handles.read_text()), 999_999_999]))
    first.stop()
    assert not (data_dir / "pgdata" / "postmaster.pid").exists(), "the server must stop with its last live user"

    second = EmbeddedPostgres(data_dir)
    try:
        assert await _query(second.start(), "select value from kept") == "still here"
    finally:
        second.stop()


def test_coop_serve_stops_the_embedded_server_on_sigterm(data_dir: Path) -> None:
    """What a service manager sends: the server must not outlive `coop serve`."""
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment["COOP_DATA_DIR"] = str(data_dir)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert (data_dir / "pgdata" / "postmaster.pid").exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
