"""Helpers that turn the configured database URL into the forms each client needs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def to_async_url(database_url: str) -> URL:
    """Accept `postgres://`, `postgresql://` or `postgresql+asyncpg://` and return the asyncpg form."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL is supported, got {url.get_backend_name()!r}")
    return url.set(drivername="postgresql+asyncpg")


def with_database(url: URL, database: str) -> URL:
    return url.set(database=database)


def asyncpg_dsn(url: URL) -> str:
    """A DSN that plain asyncpg understands (used by the benches and by LISTEN/NOTIFY)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
