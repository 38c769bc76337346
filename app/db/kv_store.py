"""A Litestar `Store` kept in PostgreSQL, shared by every server process without Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.stores.base import NamespacedStore
from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.models import KeyValue


class PostgresStore(NamespacedStore):
    # Expired rows are swept by the writers themselves, every this many writes.
    SWEEP_EVERY = 256

    def __init__(self, sessionmaker: async_sessionmaker, namespace: str = "coop") -> None:
        self.namespace = namespace
        self._sessionmaker = sessionmaker
        self._writes = 0

    def with_namespace(self, namespace: str) -> PostgresStore:
        return PostgresStore(self._sessionmaker, f"{self.namespace}:{namespace}")

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        if isinstance(value, str):
            value = value.encode()
        if isinstance(expires_in, int):
            expires_in = timedelta(seconds=expires_in)
        expires_at = datetime.now(UTC) + expires_in if expires_in else None
        statement = insert(KeyValue).values(key=self._key(key), value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[KeyValue.key], set_={"value": value, "expires_at": expires_at}
        )
        async with self._sessionmaker.begin() as session:
            await session.execute(statement)
        self._writes += 1
        if self._writes % self.SWEEP_EVERY == 0:
            await self.delete_expired()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._sessionmaker.begin() as session:
            value = await session.scalar(
                select(KeyValue.value).where(
                    KeyValue.key == self._key(key),
                    or_(KeyValue.expires_at.is_(None), KeyValue.expires_at > func.now()),  # type: ignore[union-attr]
                )
            )
            if value is not None and renew_for:
                seconds = renew_for.total_seconds() if isinstance(renew_for, timedelta) else renew_for
                await session.execute(
                    text("update kv_store set expires_at = now() + make_interval(secs => :s) where key = :k"),
                    {"s": seconds, "k": self._key(key)},
                )
            return value

    async def delete(self, key: str) -> None:
        async with self._sessionmaker.begin() as session:
            await session.execute(delete(KeyValue).where(KeyValue.key == self._key(key)))

    async def delete_all(self) -> None:
        async with self._sessionmaker.begin() as session:
            await session.execute(delete(KeyValue).where(KeyValue.key.startswith(self.namespace + ":")))  # type: ignore[attr-defined]

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self._sessionmaker.begin() as session:
            expires_at = await session.scalar(select(KeyValue.expires_at).where(KeyValue.key == self._key(key)))
        if expires_at is None:
            return None
        return max(0, int((expires_at - datetime.now(UTC)).total_seconds()))

    async def delete_expired(self) -> None:
        async with self._sessionmaker.begin() as session:
            await session.execute(delete(KeyValue).where(KeyValue.expires_at < func.now()))  # type: ignore[operator]
