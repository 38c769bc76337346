"""Through a real PgBouncer in transaction pooling mode: sign in, read, search (docs/operations.md).

Skipped, with the reason, when Debian's `pgbouncer` is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD, Mailbox, free_port

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


def _run_as() -> list[str]:
    """PgBouncer refuses to run as root: drop to the embedded server's user (who may enter its
    socket directory) or to nobody."""
    if os.geteuid() != 0:
        return []
    for user in ("embedded_postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["-u", user]
    pytest.skip("running as root and no unprivileged user to run pgbouncer as")


@pytest.fixture
def pgbouncer(database_url: URL) -> Iterator[URL]:
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (Debian package `pgbouncer`)")
    work = Path(tempfile.mkdtemp(prefix="coop-pgbouncer-"))
    work.chmod(0o777)  # the unprivileged user writes its pid and log files here
    host = database_url.query.get("host") or database_url.host or "127.0.0.1"
    port = free_port()
    config = work / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"{database_url.database} = host={host} port={database_url.port or 5432}"
        f" dbname={database_url.database} user={database_url.username or 'postgres'}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 200\n"
        f"logfile = {work}/pgbouncer.log\npidfile = {work}/pgbouncer.pid\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    config.chmod(0o644)
    process = subprocess.Popen([PGBOUNCER, *_run_as(), str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                    pytest.fail(f"pgbouncer did not start: {output}")
                time.sleep(0.05)
        yield URL.create(
            "postgresql+asyncpg", username="postgres", host="127.0.0.1", port=port, database=database_url.database
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


async def test_sign_in_read_and_search_through_pgbouncer_in_transaction_mode(
    pgbouncer: URL, smtp_server: tuple[Mailbox, int], signing_key_pem: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=pgbouncer.render_as_string(hide_password=False),
        COOP_DATA_DIR=tmp_path,
        COOP_JWT_PRIVATE_KEYS=signing_key_pem,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        COOP_AUTH_RATE_LIMIT=10_000,
        COOP_PUBLIC_BASE_URL="http://coop.test",
        COOP_LOG_LEVEL="WARNING",
        COOP_DB_STATEMENT_CACHE_SIZE=0,
    )
    app = create_app(settings, passwords=FAST_PASSWORDS)
    async with AsyncTestClient(app=app, base_url="http://coop.test") as client:
        email = "through.pgbouncer@example.org"
        body = {"email": email, "password": TEST_PASSWORD, "display_name": "Bouncer"}
        assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
        for _ in range(3):  # several sign-ins: statements land on different server connections
            tokens = await client.post("/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD})
            assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        for _ in range(5):
            me = await client.get("/api/v1/me", headers=headers)
            assert me.status_code == 200 and me.json()["email"] == email
            found = await client.get("/api/v1/profiles", params={"q": "développeuse pyhton"}, headers=headers)
            assert found.status_code == 200, found.text
            skills = await client.get("/api/v1/skills", params={"q": "python"}, headers=headers)
            assert skills.status_code == 200 and skills.json()["total"] >= 1
            missions = await client.get("/api/v1/missions", params={"q": "design"}, headers=headers)
            assert missions.status_code == 200, missions.text
        assert (await client.post("/api/v1/auth/sign-out", headers=headers)).status_code == 204
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
