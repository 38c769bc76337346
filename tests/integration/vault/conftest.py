"""A second cooperative running this software (its own database and signing key), to move members to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.accounts.tokens import generate_private_key_pem
from app.db.url import asyncpg_dsn, with_database
from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, Mailbox
from tests.integration.conftest import Actor, create_admin_account, sign_in


@dataclass
class OtherCoop:
    client: AsyncTestClient
    admin: Actor
    settings: Settings
    database_url: URL


async def _admin_statement(server_url: URL, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def other_coop(
    server_url: URL, template_url: URL, smtp_server: tuple[Mailbox, int], tmp_path: Path
) -> AsyncIterator[OtherCoop]:
    name = f"coop_other_{uuid.uuid4().hex[:12]}"
    await _admin_statement(server_url, f'create database "{name}" template "{template_url.database}"')
    url = with_database(server_url, name)
    data_dir = tmp_path / "other"
    data_dir.mkdir()
    settings = Settings(
        database_url=url.render_as_string(hide_password=False),
        COOP_DATA_DIR=data_dir,
        COOP_JWT_PRIVATE_KEYS=generate_private_key_pem(),
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        COOP_AUTH_RATE_LIMIT=10_000,
        COOP_PUBLIC_BASE_URL="http://other.coop.test",
        COOP_LOG_LEVEL="WARNING",
        COOP_VAULT_ISSUER_NAME="Other cooperative",
    )
    app = create_app(settings, passwords=FAST_PASSWORDS)
    try:
        async with AsyncTestClient(app=app, base_url="http://other.coop.test") as client:
            admin = await sign_in(client, await create_admin_account(settings, url), name="admin")
            yield OtherCoop(client=client, admin=admin, settings=settings, database_url=url)
    finally:
        await _admin_statement(server_url, f'drop database if exists "{name}" with (force)')
