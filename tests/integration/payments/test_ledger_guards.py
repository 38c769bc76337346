"""The database itself keeps the journal honest: unbalanced transactions, edits and deletions refused.

These talk SQL to the test database on purpose: the point is that a bug (or a person with a SQL
prompt) bypassing the service still cannot break the books.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn


async def _accounts(connection: asyncpg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    ids = []
    for code, kind in (("treasury", "asset"), ("contributions", "revenue")):
        ids.append(
            await connection.fetchval(
                "insert into ledger_account (id, code, kind, name) values ($1, $2, $3, $2)"
                " on conflict (code) do update set code = excluded.code returning id",
                uuid.uuid4(),
                code,
                kind,
            )
        )
    return ids[0], ids[1]


async def _book(connection: asyncpg.Connection, amounts: list[int], ref: str | None = None) -> uuid.UUID:
    debit, credit = await _accounts(connection)
    transaction_id = uuid.uuid4()
    await connection.execute(
        "insert into ledger_transaction (id, kind, external_ref, memo, occurred_at)"
        " values ($1, 'client_payment', $2, '', now())",
        transaction_id,
        ref,
    )
    for index, amount in enumerate(amounts):
        await connection.execute(
            "insert into ledger_entry (transaction_id, account_id, amount_minor) values ($1, $2, $3)",
            transaction_id,
            debit if index % 2 == 0 else credit,
            amount,
        )
    return transaction_id


async def test_the_database_refuses_what_would_break_the_books(database_url: URL) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with connection.transaction():
            booked = await _book(connection, [1000, -1000], ref="pi_once")

        # Entries that do not sum to zero are refused when the transaction commits (deferred check).
        with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
            async with connection.transaction():
                await _book(connection, [1000, -999])
        # A transaction with a single entry, or none, is refused too.
        with pytest.raises(asyncpg.CheckViolationError):
            async with connection.transaction():
                await connection.execute(
                    "insert into ledger_transaction (id, kind, memo, occurred_at) values ($1, 'payout', '', now())",
                    uuid.uuid4(),
                )
        # Booked is booked: no edit, no deletion, no truncation; corrections are new transactions.
        for statement in (
            "update ledger_entry set amount_minor = amount_minor * 2",
            "delete from ledger_entry",
            "update ledger_transaction set memo = 'rewritten'",
            "delete from ledger_transaction",
            "truncate ledger_entry cascade",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await connection.execute(statement)
        # The same outside reference cannot be booked twice under the same kind.
        with pytest.raises(asyncpg.UniqueViolationError):
            async with connection.transaction():
                await _book(connection, [500, -500], ref="pi_once")
        assert await connection.fetchval("select count(*) from ledger_transaction") == 1
        assert (
            await connection.fetchval("select sum(amount_minor) from ledger_entry where transaction_id = $1", booked)
            == 0
        )
    finally:
        await connection.close()
