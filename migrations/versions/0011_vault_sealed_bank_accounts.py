"""vault: members' IBANs and account holders' names, and proposal comments, sealed under their member's data key

`member_bank_account` held the IBAN as AES-256-GCM ciphertext under the cooperative's payments key
(COOP_PAYMENTS_KEY, or a key derived from COOP_SECRET_KEY by HKDF) and the holder's name in clear, so a
backup taken before a member's erasure kept both readable. Both are now `coop-sealed:1:<base64url>` text
under the member's own data key (app/core/sealing.py; associated data: the column's name and the member's
id): destroying the key at erasure shreds every copy. `iban_ciphertext` and `iban_nonce` give way to
`iban_sealed`; `holder_name` becomes text (a sealed name is longer than 70 characters).
`proposal_comment.body` keeps its type and is sealed under the comment's author's key, like 0010's texts.

The upgrade opens each IBAN with the payments key and seals it with the member's key (created if the
member had none); the downgrade does the reverse (comments opened: an author whose key was destroyed
reads `[erased]`). Both read the server's settings (COOP_PAYMENTS_KEY, COOP_SECRET_KEY,
COOP_VAULT_MASTER_KEYS) only when there is a row to rewrite, so `coop migrate` runs with the server's
settings; tests hand them over in `config.attributes["settings"]`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:40:00
"""

import base64
import os
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.sealing import (
    ERASED,
    SEALED_PREFIX,
    DataKey,
    MasterKeys,
    master_keys_from_settings,
    open_text,
    seal_text,
)

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The associated data app/payments/payouts.py seals with (the column's name; the row is the member's id).
HOLDER_NAME = "member_bank_account.holder_name"
IBAN_SEALED = "member_bank_account.iban"
BATCH = 1000


def _settings():  # type: ignore[no-untyped-def]
    given = context.config.attributes.get("settings")
    if given is not None:
        return given
    from app.settings import get_settings

    return get_settings()


def _payments_cipher(settings) -> AESGCM:  # type: ignore[no-untyped-def]
    """The cipher IBANs were written with before this revision (app/payments/payouts.py's IbanVault)."""
    given = settings.payments_encryption_key
    if given is not None and given.get_secret_value():
        key = base64.b64decode(given.get_secret_value())
    else:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"coop-platform iban v1").derive(
            settings.secret_key.get_secret_value().encode()
        )
    if len(key) != 32:
        raise ValueError("COOP_PAYMENTS_KEY must be 32 bytes, base64-encoded")
    return AESGCM(key)


def _master_keys(settings) -> MasterKeys:  # type: ignore[no-untyped-def]
    given = context.config.attributes.get("vault_master_keys")
    return given if isinstance(given, MasterKeys) else master_keys_from_settings(settings)


class _Keys:
    """Members' data keys, read or (sealing) created, as revision 0010 does."""

    def __init__(self, connection: sa.Connection, master_keys: MasterKeys) -> None:
        self.connection = connection
        self.master_keys = master_keys
        self._keys: dict[uuid.UUID, DataKey | None] = {}

    def get(self, account_id: uuid.UUID, *, create: bool) -> DataKey | None:
        if account_id in self._keys:
            return self._keys[account_id]
        row = self.connection.execute(
            sa.text("select master_version, wrapped_key from vault_member_key where account_id = :id"),
            {"id": account_id},
        ).one_or_none()
        key: DataKey | None = None
        if row is not None:
            key = self.master_keys.unwrap(row.master_version, row.wrapped_key, account_id)
        elif create:
            key = self.master_keys.new_data_key()
            version, wrapped = self.master_keys.wrap(key, account_id)
            self.connection.execute(
                sa.text("insert into vault_member_key (account_id, master_version, wrapped_key) values (:id, :v, :w)"),
                {"id": account_id, "v": version, "w": wrapped},
            )
        self._keys[account_id] = key
        return key


def _rewrite_comments(connection: sa.Connection, keys: _Keys, *, sealing: bool) -> None:
    condition = "body not like :prefix and body <> :erased" if sealing else "body like :prefix"
    select = sa.text(
        f"select id, author_id, body from proposal_comment where {condition} order by author_id, id limit :n"  # noqa: S608
    )
    params = {"prefix": SEALED_PREFIX + "%", "erased": ERASED, "n": BATCH}
    update = sa.text("update proposal_comment set body = :body where id = :id")
    while rows := connection.execute(select, params).all():
        for row in rows:
            key = keys.get(row.author_id, create=sealing)
            if sealing:
                assert key is not None
                body = seal_text(key, row.body, table="proposal_comment", row_id=row.id)
            else:
                body = open_text(key, row.body, table="proposal_comment", row_id=row.id)
            connection.execute(update, {"body": body, "id": row.id})


def upgrade() -> None:
    connection = op.get_bind()
    op.alter_column("member_bank_account", "holder_name", type_=sa.Text(), existing_nullable=False)
    op.add_column("member_bank_account", sa.Column("iban_sealed", sa.Text(), nullable=True))
    rows = connection.execute(
        sa.text("select member_id, holder_name, iban_ciphertext, iban_nonce from member_bank_account")
    ).all()
    has_comments = connection.execute(
        sa.text("select exists (select 1 from proposal_comment where body not like :p and body <> :e)"),
        {"p": SEALED_PREFIX + "%", "e": ERASED},
    ).scalar()
    if rows or has_comments:
        settings = _settings()
        keys = _Keys(connection, _master_keys(settings))
        payments = _payments_cipher(settings) if rows else None
        for row in rows:
            assert payments is not None
            try:
                iban = payments.decrypt(row.iban_nonce, row.iban_ciphertext, row.member_id.bytes).decode()
            except InvalidTag:
                raise RuntimeError(
                    f"the IBAN of member {row.member_id} does not open: run `coop migrate` with the"
                    " COOP_PAYMENTS_KEY (or, if it was never set, the COOP_SECRET_KEY) the server encrypted it with"
                ) from None
            key = keys.get(row.member_id, create=True)
            assert key is not None
            connection.execute(
                sa.text(
                    "update member_bank_account set holder_name = :name, iban_sealed = :iban where member_id = :id"
                ),
                {
                    "name": seal_text(key, row.holder_name, table=HOLDER_NAME, row_id=row.member_id),
                    "iban": seal_text(key, iban, table=IBAN_SEALED, row_id=row.member_id),
                    "id": row.member_id,
                },
            )
        _rewrite_comments(connection, keys, sealing=True)
    op.alter_column("member_bank_account", "iban_sealed", nullable=False)
    op.drop_column("member_bank_account", "iban_nonce")
    op.drop_column("member_bank_account", "iban_ciphertext")


def downgrade() -> None:
    connection = op.get_bind()
    op.add_column("member_bank_account", sa.Column("iban_ciphertext", sa.LargeBinary(), nullable=True))
    op.add_column("member_bank_account", sa.Column("iban_nonce", sa.LargeBinary(length=12), nullable=True))
    rows = connection.execute(sa.text("select member_id, holder_name, iban_sealed from member_bank_account")).all()
    has_comments = connection.execute(
        sa.text("select exists (select 1 from proposal_comment where body like :p)"), {"p": SEALED_PREFIX + "%"}
    ).scalar()
    if rows or has_comments:
        settings = _settings()
        keys = _Keys(connection, _master_keys(settings))
        payments = _payments_cipher(settings) if rows else None
        for row in rows:
            assert payments is not None
            key = keys.get(row.member_id, create=False)
            if key is None:
                # Not reachable through the application (erasure deletes the row before the key); an
                # IBAN nobody can open any more is dropped rather than written back as a placeholder.
                connection.execute(
                    sa.text("delete from member_bank_account where member_id = :id"), {"id": row.member_id}
                )
                continue
            iban = open_text(key, row.iban_sealed, table=IBAN_SEALED, row_id=row.member_id)
            nonce = os.urandom(12)
            connection.execute(
                sa.text(
                    "update member_bank_account set holder_name = :name, iban_ciphertext = :ciphertext,"
                    " iban_nonce = :nonce where member_id = :id"
                ),
                {
                    "name": open_text(key, row.holder_name, table=HOLDER_NAME, row_id=row.member_id),
                    "ciphertext": payments.encrypt(nonce, iban.encode(), row.member_id.bytes),
                    "nonce": nonce,
                    "id": row.member_id,
                },
            )
        _rewrite_comments(connection, keys, sealing=False)
    op.alter_column("member_bank_account", "iban_ciphertext", nullable=False)
    op.alter_column("member_bank_account", "iban_nonce", nullable=False)
    op.drop_column("member_bank_account", "iban_sealed")
    op.alter_column("member_bank_account", "holder_name", type_=sa.String(length=70), existing_nullable=False)
