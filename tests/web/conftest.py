"""Browser tests: a real `coop serve` process, Debian's Chromium driven by Playwright, axe-core.

Without /usr/bin/chromium every test here is skipped with the command that installs it; Playwright's
own browser download is never used (nothing may download at run time).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn, with_database
from app.settings import Settings
from tests.conftest import TEST_PASSWORD, Mailbox, free_port
from tests.integration.conftest import create_admin_account

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
T = TypeVar("T")
INSTALL_HINT = "browser tests need Debian's Chromium: apt-get update && apt-get install -y chromium"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"/usr/bin/chromium is missing; {INSTALL_HINT}")
    for item in items:
        if "tests/web/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    # axe-core is injected as a script: the pages' strict CSP (scripts from /static only) would refuse it.
    return {"bypass_csp": True, "locale": "fr-FR", "viewport": {"width": 1280, "height": 900}}


@dataclass
class Server:
    base: str
    mailbox: Mailbox
    admin_email: str
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def token(self, email: str) -> str:
        """A bearer token, kept for the run: each sign-in costs a full Argon2 hash on the server."""
        if email not in self.tokens:
            response = self.api("POST", "/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[email] = response.json()["access_token"]
        return self.tokens[email]

    def register(self, email: str, name: str, role: str = "member", admitted: bool = True) -> str:
        body: dict[str, Any] = {"email": email, "password": TEST_PASSWORD, "display_name": name, "role": role}
        if role == "client":
            body["organisation"] = {
                "legal_name": "Régie de quartier",
                "registration_number": "RCS Lyon 732 829 320",
                "billing_address": "1 place Sathonay, Lyon",
            }
        created = self.api("POST", "/api/v1/auth/register", json=body)
        assert created.status_code == 201, created.text
        account_id = created.json()["id"]
        if role == "member" and admitted:
            admitted_response = self.api(
                "PATCH",
                f"/api/v1/accounts/{account_id}/member-status",
                self.token(self.admin_email),
                json={"status": "member"},
            )
            assert admitted_response.status_code == 200, admitted_response.text
        return account_id


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Playwright's sync API keeps an event loop running in this thread: async work goes to another."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


async def _admin_statement(url: URL, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def browser_database_url(server_url: URL, template_url: URL) -> Iterator[URL]:
    """Like `database_url`, but usable once Playwright runs (no async fixture after that point)."""
    name = f"coop_web_{uuid.uuid4().hex[:12]}"
    _run(_admin_statement(server_url, f'create database "{name}" template "{template_url.database}"'))
    yield with_database(server_url, name)
    _run(_admin_statement(server_url, f'drop database if exists "{name}" with (force)'))


@pytest.fixture(scope="session")
def server(
    browser_database_url: URL,
    smtp_server: tuple[Mailbox, int],
    signing_key_pem: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """One server for every journey (they use distinct people), started once: it is the slow part."""
    database_url = browser_database_url
    tmp_path = tmp_path_factory.mktemp("coop-web")
    settings = Settings(
        database_url=database_url.render_as_string(hide_password=False),
        COOP_DATA_DIR=tmp_path,
        COOP_JWT_PRIVATE_KEYS=signing_key_pem,
    )
    admin_email = _run(create_admin_account(settings, database_url))
    mailbox, smtp_port = smtp_server
    mailbox.messages.clear()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "COOP_DATA_DIR": str(tmp_path),
        "COOP_JWT_PRIVATE_KEYS": signing_key_pem,
        "COOP_PUBLIC_BASE_URL": base,
        "COOP_LOG_LEVEL": "WARNING",
        "COOP_AUTH_RATE_LIMIT": "10000",
        "COOP_CONVOCATION_NOTICE_DAYS": "0",
        "COOP_ASSEMBLY_TICK_SECONDS": "0.5",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"coop serve did not start: {process.stderr.read().decode() if process.stderr else ''}"
                )
            time.sleep(0.1)
        yield Server(base=base, mailbox=mailbox, admin_email=admin_email)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
