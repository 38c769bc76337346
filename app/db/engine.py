"""The database engine's life cycle: resolve the URL (embedded or configured), create and dispose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.db.embedded import EmbeddedPostgres
from app.db.url import to_async_url
from app.settings import Settings


@dataclass
class Database:
    """Owns the engine and, on the embedded default, the PostgreSQL server behind it."""

    url: URL  # the owner's: migrations run with it, the application's engines never do
    engine: AsyncEngine
    read_engine: AsyncEngine
    sessionmaker: async_sessionmaker
    embedded: EmbeddedPostgres | None = field(default=None)

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.read_engine.dispose()

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for one read outside the request's transaction, in autocommit mode:
        no BEGIN/ROLLBACK round trips (used to authenticate every request)."""
        async with AsyncSession(bind=self.read_engine, expire_on_commit=False) as session:
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("select 1"))
        except Exception:  # any failure means "not ready"; the probe needs no detail
            return False
        return True


def resolve_database_url(settings: Settings) -> tuple[URL, EmbeddedPostgres | None]:
    if settings.database_url:
        return to_async_url(settings.database_url), None
    embedded = EmbeddedPostgres(settings.data_dir)
    return to_async_url(embedded.start()), embedded


def create_engine(url: URL, *, pool_size: int = 10, **options: Any) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": {"timezone": "UTC", "application_name": "coop-platform"}},
        **options,
    )


def application_url(owner_url: URL, settings: Settings) -> URL:
    """Where the application connects: as a role that owns nothing (see migration 0004), so that
    not even the application's own credentials can alter a table or disable the audit triggers."""
    if settings.app_database_url:
        return to_async_url(settings.app_database_url)
    if settings.database_app_role:
        password = settings.app_database_password.get_secret_value() if settings.app_database_password else None
        return owner_url.set(username=settings.database_app_role, password=password)
    return owner_url


def open_database(settings: Settings, url: URL | None = None) -> Database:
    embedded = None
    if url is None:
        url, embedded = resolve_database_url(settings)
    app_url = application_url(url, settings)
    engine = create_engine(app_url)
    # Single-statement reads in autocommit: no BEGIN and no ROLLBACK round trips around them.
    read_engine = create_engine(app_url, pool_size=5, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    return Database(
        url=url,
        engine=engine,
        read_engine=read_engine,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        embedded=embedded,
    )
