"""The database engine's life cycle: resolve the URL (embedded or configured), create and dispose.

Two pools share one server: SQLAlchemy's, for the request's unit of work, and a small asyncpg pool
(`Database.fetch_row`) for the single-statement reads that run on every request (authentication),
where the ORM's session and the pool's reset round trip cost more than the query itself. Both are
sized for the requests one process serves at once, so connections are reused, never opened and
closed per request. Neither keeps anything between requests beyond the connections themselves.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import event, exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from app.db.embedded import EmbeddedPostgres
from app.db.resilience import is_disconnect
from app.db.url import asyncpg_dsn, to_async_url
from app.settings import Settings

SERVER_SETTINGS = {"timezone": "UTC", "application_name": "coop-platform"}


class Row(asyncpg.Record):
    """An asyncpg record whose columns read as attributes too, like the rows of a SQLAlchemy result."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class PoolOptions:
    """How many connections a process keeps, and whether asyncpg may prepare statements
    (not behind PgBouncer in transaction pooling mode: a statement prepared on one server
    connection is unknown to the next)."""

    size: int = 20
    overflow: int = 5
    reader_size: int = 10
    statement_cache_size: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolOptions:
        return cls(
            size=settings.db_pool_size,
            overflow=settings.db_pool_overflow,
            reader_size=settings.db_reader_pool_size,
            statement_cache_size=settings.db_statement_cache_size,
        )


@dataclass
class Database:
    """Owns the engine and, on the embedded default, the PostgreSQL server behind it."""

    url: URL  # the owner's: migrations run with it, the application's engines never do
    engine: AsyncEngine
    sessionmaker: async_sessionmaker
    embedded: EmbeddedPostgres | None = field(default=None)
    pool_options: PoolOptions = field(default_factory=PoolOptions)
    app_url: URL | None = field(default=None)  # the application's role (see `application_url`)
    _reader: asyncpg.Pool | None = field(default=None, repr=False)
    _reader_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _writer: asyncpg.Pool | None = field(default=None, repr=False)
    _writer_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def _reader_pool(self) -> asyncpg.Pool:
        if self._reader is None:
            async with self._reader_lock:
                if self._reader is None:
                    self._reader = await asyncpg.create_pool(
                        asyncpg_dsn(self.app_url or self.url),
                        min_size=1,
                        max_size=self.pool_options.reader_size,
                        # Only the fixed single SELECTs of `fetch_row` run here, in autocommit: they
                        # change no session state, so the reset round trip on release is pure cost.
                        reset=_no_reset,
                        **asyncpg_connect_args(self.app_url or self.url, self.pool_options),
                    )
        return self._reader

    async def _writer_pool(self) -> asyncpg.Pool:
        if self._writer is None:
            async with self._writer_lock:
                if self._writer is None:
                    self._writer = await asyncpg.create_pool(
                        asyncpg_dsn(self.app_url or self.url),
                        min_size=1,
                        max_size=self.pool_options.size,
                        # `transaction` always ends what it began (COMMIT or ROLLBACK), and asyncpg rolls
                        # back any transaction still open on release; nothing else changes session state.
                        reset=_no_reset,
                        **asyncpg_connect_args(self.app_url or self.url, self.pool_options),
                    )
        return self._writer

    @asynccontextmanager
    async def transaction(self, lead: str) -> AsyncIterator[asyncpg.Connection]:
        """A transaction on a raw asyncpg connection, for a hot write path that a whole request is.

        `lead` (plain SQL, no parameters: it is sent with BEGIN as one simple query, so it must hold
        no user input) runs first, in the same round trip as BEGIN: typically an advisory lock.
        COMMIT when the block ends normally, ROLLBACK when it raises. The caller must not also write
        through the request's ORM session: these would be two transactions.
        A connection that the server dropped is replaced and BEGIN retried once (nothing ran yet).
        """
        pool = await self._writer_pool()
        connection = await pool.acquire()
        try:
            try:
                await connection.execute(f"begin; {lead}")
            except Exception as error:
                if not is_disconnect(error):
                    raise
                await pool.release(connection)
                await pool.expire_connections()
                connection = await pool.acquire()
                await connection.execute(f"begin; {lead}")
            try:
                yield connection
            except BaseException:
                if not connection.is_closed():
                    await connection.execute("rollback")
                raise
            await connection.execute("commit")
        finally:
            await pool.release(connection)

    async def fetch_row(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """One read-only statement (asyncpg's `$1` placeholders) in autocommit, outside any unit of work.

        A connection that the server dropped (a restart) is replaced and the read retried once:
        it is idempotent. A second failure propagates (an outage: the caller answers 503).
        """
        pool = await self._reader_pool()
        try:
            return await self._fetch_row(pool, sql, args)
        except Exception as error:
            if not is_disconnect(error):
                raise
            await pool.expire_connections()
            return await self._fetch_row(pool, sql, args)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Like `fetch_row`, for a statement answering several rows (each readable as `row.column` too)."""
        pool = await self._reader_pool()
        try:
            return await self._fetch(pool, sql, args)
        except Exception as error:
            if not is_disconnect(error):
                raise
            await pool.expire_connections()
            return await self._fetch(pool, sql, args)

    async def _fetch(self, pool: asyncpg.Pool, sql: str, args: tuple[Any, ...]) -> list[Row]:
        if self.pool_options.statement_cache_size:
            return await pool.fetch(sql, *args, record_class=Row)
        async with pool.acquire() as connection, connection.transaction():  # see `_fetch_row`
            return await connection.fetch(sql, *args, record_class=Row)

    async def _fetch_row(self, pool: asyncpg.Pool, sql: str, args: tuple[Any, ...]) -> asyncpg.Record | None:
        if self.pool_options.statement_cache_size:
            return await pool.fetchrow(sql, *args)
        # Behind PgBouncer in transaction pooling mode, a statement's parse and its execution are
        # two exchanges that may reach two server connections; a transaction keeps them on one.
        async with pool.acquire() as connection, connection.transaction():
            return await connection.fetchrow(sql, *args)

    async def readiness(self) -> str | None:
        """None when the database answers a query; otherwise why not, in a few words for operators."""
        try:
            async with asyncio.timeout(5):
                row = await self.fetch_row("select 1")
        except TimeoutError:
            return "the database did not answer within 5 s"
        except Exception as error:
            return f"the database is unreachable ({type(error).__name__})"
        return None if row is not None else "the database answered nothing"

    async def ping(self) -> bool:
        return await self.readiness() is None


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


def _is_loopback(host: str | None) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True  # no host: a Unix socket
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def asyncpg_connect_args(url: URL, options: PoolOptions) -> dict[str, Any]:
    """What every asyncpg connection of ours is opened with, whichever pool opens it."""
    args: dict[str, Any] = {"server_settings": dict(SERVER_SETTINGS)}
    query_host = url.query.get("host")
    host = query_host if isinstance(query_host, str) else url.host
    if "sslmode" not in url.query and "ssl" not in url.query and _is_loopback(host):
        # asyncpg's default ("prefer") negotiates TLS on every connection; on the loopback
        # interface or a Unix socket it protects nothing and costs a handshake and encryption.
        args["ssl"] = False
    # 0 (PgBouncer in transaction pooling mode): asyncpg then uses unnamed statements only.
    args["statement_cache_size"] = options.statement_cache_size
    return args


def _unique_statement_name() -> str:
    return f"__coop_{uuid.uuid4().hex}__"


def resolve_database_url(settings: Settings) -> tuple[URL, EmbeddedPostgres | None]:
    if settings.database_url:
        return to_async_url(settings.database_url), None
    embedded = EmbeddedPostgres(settings.data_dir)
    return to_async_url(embedded.start()), embedded


def create_engine(url: URL, options: PoolOptions | None = None, **engine_options: Any) -> AsyncEngine:
    options = options or PoolOptions()
    connect_args = asyncpg_connect_args(url, options)
    if options.statement_cache_size == 0:
        # SQLAlchemy prepares statements itself, on top of asyncpg's cache: no cache, and names
        # that cannot collide on a server connection another client used before.
        url = url.update_query_dict({"prepared_statement_cache_size": "0"})
        connect_args["prepared_statement_name_func"] = _unique_statement_name
    engine = create_async_engine(
        url,
        pool_size=options.size,
        max_overflow=options.overflow,
        # No pre-ping (a round trip per checkout): a connection the server closed is caught at
        # checkout for free (below), and one that fails during a request invalidates the pool.
        pool_pre_ping=False,
        connect_args=connect_args,
        **engine_options,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection whose socket the server closed (a restart) is known closed to asyncpg
    without any round trip; raising DisconnectionError makes the pool replace it and retry."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


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
    options = PoolOptions.from_settings(settings)
    app_url = application_url(url, settings)
    engine = create_engine(app_url, options)
    return Database(
        url=url,
        engine=engine,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        embedded=embedded,
        pool_options=options,
        app_url=app_url,
    )
