"""vault: applications' messages, reviews' texts and questions sealed under their author's data key

No schema change: `application.message`, `review.text` and `mission_question.body` keep their type and hold
`coop-sealed:1:<base64url>` (AES-256-GCM under the author's data key, the table and row id as associated
data; see app/core/sealing.py). This revision seals the texts written in clear before it, creating the
data key of authors who had none; the downgrade opens them again (an author whose key was destroyed by
an erasure reads `[erased]`).

The master keys are the application's (COOP_VAULT_MASTER_KEYS, or version 1 derived from COOP_SECRET_KEY),
so `coop migrate` must run with the same settings as the server. Unlike the other revisions this one
imports application code: the cipher must be exactly the one the application opens. It reads the
settings only when there is something to seal or open.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:40:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from app.core.sealing import (
    ERASED,
    SEALED_PREFIX,
    DataKey,
    MasterKeys,
    master_keys_from_settings,
    open_text,
    seal_text,
)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, sealed column, the author whose data key seals it)
SEALED = (
    ("application", "message", "member_id"),
    ("review", "text", "author_id"),
    ("mission_question", "body", "author_id"),
)
BATCH = 1000


def _selection(table: str, column: str, author: str, *, sealing: bool) -> sa.TextClause:
    # Each batch rewritten leaves the selection, so the next query finds the next batch. The names are
    # the constants above, never input.
    condition = f"{column} not like :prefix and {column} <> :erased" if sealing else f"{column} like :prefix"
    return sa.text(
        f"select id, {author} as author, {column} as value from {table}"  # noqa: S608
        f" where {author} is not null and {condition} order by {author}, id limit :n"
    )


def _master_keys() -> MasterKeys:
    # Tests (and tools) may hand the keys over; otherwise the settings the server runs with.
    given = context.config.attributes.get("vault_master_keys")
    if isinstance(given, MasterKeys):
        return given
    from app.settings import get_settings

    return master_keys_from_settings(get_settings())


def _data_key(
    connection: sa.Connection, master_keys: MasterKeys, account_id: uuid.UUID, *, create: bool
) -> DataKey | None:
    row = connection.execute(
        sa.text("select master_version, wrapped_key from vault_member_key where account_id = :id"), {"id": account_id}
    ).one_or_none()
    if row is not None:
        return master_keys.unwrap(row.master_version, row.wrapped_key, account_id)
    if not create:
        return None
    key: DataKey = master_keys.new_data_key()
    version, wrapped = master_keys.wrap(key, account_id)
    connection.execute(
        sa.text("insert into vault_member_key (account_id, master_version, wrapped_key) values (:id, :v, :w)"),
        {"id": account_id, "v": version, "w": wrapped},
    )
    return key


def _rewrite(sealing: bool) -> None:
    connection = op.get_bind()
    params = {"prefix": SEALED_PREFIX + "%", "erased": ERASED, "n": BATCH}
    master_keys: MasterKeys | None = None
    keys: dict[uuid.UUID, DataKey | None] = {}
    for table, column, author in SEALED:
        select = _selection(table, column, author, sealing=sealing)
        update = sa.text(f"update {table} set {column} = :value where id = :id")  # noqa: S608
        while rows := connection.execute(select, params).all():
            master_keys = master_keys or _master_keys()
            for row in rows:
                if row.author not in keys:
                    keys[row.author] = _data_key(connection, master_keys, row.author, create=sealing)
                key = keys[row.author]
                if sealing:
                    assert key is not None
                    value = seal_text(key, row.value, table=table, row_id=row.id)
                else:
                    value = open_text(key, row.value, table=table, row_id=row.id)
                connection.execute(update, {"value": value, "id": row.id})


def upgrade() -> None:
    _rewrite(sealing=True)


def downgrade() -> None:
    _rewrite(sealing=False)
