"""Apply and inspect Alembic migrations from code (the CLI, the app start-up and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine

import migrations

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def alembic_config(url: URL | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(url: URL, revision: str = "head") -> None:
    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: URL, revision: str) -> None:
    await _run(url, lambda config: command.downgrade(config, revision))


async def current_revision(url: URL) -> str | None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def all_revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


async def _run(url: URL, action) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: action(alembic_config(url, sync)))
    finally:
        await engine.dispose()


async def set_role_password(url: URL, role: str, password: str) -> None:
    """Give the application's role the password it connects with (servers with password auth)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            quoted = connection.dialect.identifier_preparer.quote(role)
            literal = password.replace("'", "''")
            await connection.execute(text(f"alter role {quoted} with login password '{literal}'"))
    finally:
        await engine.dispose()
