"""What every part of the assemblies repository shares: the session, the request's database, the lock namespaces."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database

# Namespaces of the advisory locks (first argument of the two-int form).
CAST_LOCKS = 0x5A11  # shared by casts, exclusive for the close: no ballot lands after the count
PROXY_LOCKS = 0x5A12  # serialises proxy declarations of one scope (the cap is checked against the others)
CHAIN_LOCK = (0x5A13, 1)  # the audit sequencer


def lock_key(identifier: uuid.UUID) -> int:
    return int.from_bytes(identifier.bytes[:4], "big", signed=True)


def json_column(value: Any) -> Any:
    """A jsonb column as Python: asyncpg without a codec answers its text."""
    return msgspec.json.decode(value) if isinstance(value, str) else value


def positional_sql(statement: str, names: list[str]) -> str:
    for index, name in enumerate(names, 1):
        statement = statement.replace(f":{name}", f"${index}")
    return statement


class RepositoryBase:
    def __init__(self, session: AsyncSession, database: Database | None = None) -> None:
        self.session = session
        # The request's database, for the hot paths that skip the ORM (`proposal_page`, `casting`)
        # while the session has begun nothing; None outside HTTP requests (CLI, background loops).
        self.database = database

    def _unit_untouched(self) -> bool:
        """True while the request's session has begun nothing and holds no change: a read or a
        transaction outside it then sees exactly what one inside it would."""
        session = self.session
        return not (session.in_transaction() or session.new or session.dirty or session.deleted)

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()
