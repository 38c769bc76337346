"""Migrations are the source of truth: they agree with the models, and every step can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import migrations
from app.models import metadata


async def _schema_differences(url: URL) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True, "compare_server_default": True}),
                    metadata,
                )
            )
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(empty_database_url: URL) -> None:
    await migrations.upgrade(empty_database_url)
    assert await _schema_differences(empty_database_url) == []


async def test_stairway_up_down_up_for_every_revision(empty_database_url: URL) -> None:
    revisions = migrations.all_revisions()
    assert revisions, "there must be at least one migration"
    previous = "base"
    for revision in revisions:
        await migrations.upgrade(empty_database_url, revision)
        await migrations.downgrade(empty_database_url, previous)
        await migrations.upgrade(empty_database_url, revision)
        assert await migrations.current_revision(empty_database_url) == revision
        previous = revision
    assert await migrations.current_revision(empty_database_url) == migrations.head_revision()
