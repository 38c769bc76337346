"""Encryption at rest of members' personal data: a data key per member, wrapped by a versioned master key.

* Each member has a random 256-bit data key; a sealed field is AES-256-GCM ciphertext under it, with
  the table and row id as associated data, so a ciphertext copied onto another row (or another table)
  fails to open instead of leaking someone else's data.
* The data key is stored wrapped (AES-256-GCM) by a versioned master key from the settings
  (COOP_VAULT_MASTER_KEYS, or version 1 derived from COOP_SECRET_KEY), with the member's account id as
  associated data. Rotation re-wraps the data keys; the data itself is never re-encrypted.
* Erasing a member deletes their wrapped key: every ciphertext under it becomes noise, including the
  copies in backups taken before the erasure (crypto-shredding).

The vault owns the keys' lifecycle (creation on first use, rotation, destruction); features that seal
a text column of their own (missions: applications' messages; assemblies: proposal comments; payments:
IBANs and account holders' names) use `MemberKeyRing` and the text helpers below, and never import the
vault. This module never logs a key or a plaintext; a ciphertext that does not open is logged by table
and row (`SealedDataDamaged`, a 500 problem `urn:coop:problem:sealed-data-damaged`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.models import VaultMemberKey
from app.settings import Settings

NONCE_BYTES = 12
KEY_BYTES = 32
# A sealed text column holds this prefix and the base64url ciphertext; anything else is plaintext
# (rows written before sealing, or the erasure's placeholder).
SEALED_PREFIX = "coop-sealed:1:"
ERASED = "[erased]"

log = structlog.get_logger(__name__)


class SealingError(Exception):
    """A key is missing or a ciphertext does not open under it."""


class SealedDataDamaged(AppError, SealingError):
    """A sealed column holds a ciphertext that does not open under its author's key and row: altered in
    the database, copied from another row, or truncated. The request fails (a 500 with a stable type)
    rather than show anything; the log names the table and row, never the content."""

    status_code = 500
    slug = "sealed-data-damaged"
    title = "A stored record is damaged and cannot be read"

    def __init__(self, table: str, row_id: uuid.UUID) -> None:
        super().__init__("The damaged record was logged with this request's id; the operators can restore it.")
        self.table = table
        self.row_id = row_id


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise SealingError("ciphertext too short")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as error:
        raise SealingError("ciphertext does not open under this key and row") from error


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def parse_master_keys(entries: list[str]) -> dict[int, bytes]:
    """`version:base64(32 bytes)` entries, e.g. `2:q83v...`; versions are positive integers."""
    keys: dict[int, bytes] = {}
    for entry in entries:
        version_text, _, encoded = entry.strip().partition(":")
        if not version_text.isdigit() or int(version_text) < 1:
            raise ValueError("a vault master key is written `version:base64key` with a positive version")
        key = base64.b64decode(encoded, validate=True)
        if len(key) != KEY_BYTES:
            raise ValueError("a vault master key is 32 random bytes, base64-encoded")
        keys[int(version_text)] = key
    return keys


def development_master_key(secret: str) -> bytes:
    """Version 1 when no master key is configured: derived from the server secret (fine for development;
    production deployments set COOP_VAULT_MASTER_KEYS so the keys can be rotated apart from the secret)."""
    return hmac.new(secret.encode(), b"coop/vault/master-key/v1", hashlib.sha256).digest()


def new_master_key_entry(version: int) -> str:
    return f"{version}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def _row_aad(table: str, row_id: uuid.UUID) -> bytes:
    # The vault's prefix, kept when the primitive moved here: existing ciphertexts still open.
    return b"coop/vault/row/" + table.encode() + b"/" + row_id.bytes


def _wrap_aad(account_id: uuid.UUID, version: int) -> bytes:
    return b"coop/vault/member-key/" + account_id.bytes + version.to_bytes(4, "big")


@dataclass(frozen=True)
class DataKey:
    """A member's data key, unwrapped for the length of one request or one export."""

    key: bytes

    def seal(self, plaintext: bytes, *, table: str, row_id: uuid.UUID) -> bytes:
        return _seal(self.key, plaintext, _row_aad(table, row_id))

    def open(self, blob: bytes, *, table: str, row_id: uuid.UUID) -> bytes:
        return _open(self.key, blob, _row_aad(table, row_id))


class MasterKeys:
    """The versioned master keys; the highest version wraps new keys, every version unwraps."""

    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ValueError("at least one vault master key is required")
        self._keys = dict(keys)
        self.current_version = max(keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    @staticmethod
    def new_data_key() -> DataKey:
        return DataKey(AESGCM.generate_key(bit_length=256))

    def wrap(self, data_key: DataKey, account_id: uuid.UUID) -> tuple[int, bytes]:
        version = self.current_version
        return version, _seal(self._keys[version], data_key.key, _wrap_aad(account_id, version))

    def unwrap(self, version: int, wrapped: bytes, account_id: uuid.UUID) -> DataKey:
        key = self._keys.get(version)
        if key is None:
            raise SealingError(f"master key version {version} is not configured")
        return DataKey(_open(key, wrapped, _wrap_aad(account_id, version)))


def master_keys_from_settings(settings: Settings) -> MasterKeys:
    entries = [entry.get_secret_value() for entry in settings.vault_master_keys]
    if entries:
        return MasterKeys(parse_master_keys(entries))
    return MasterKeys({1: development_master_key(settings.secret_key.get_secret_value())})


# -- sealed text columns -----------------------------------------------------------------------------------


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def seal_text(key: DataKey, plaintext: str, *, table: str, row_id: uuid.UUID) -> str:
    blob = key.seal(plaintext.encode(), table=table, row_id=row_id)
    return SEALED_PREFIX + base64.urlsafe_b64encode(blob).decode()


def open_text(key: DataKey | None, stored: str, *, table: str, row_id: uuid.UUID) -> str:
    """The plaintext of a sealed column; a plaintext value as it is; `[erased]` once the key is gone."""
    if not is_sealed(stored):
        return stored
    if key is None:
        return ERASED
    try:
        blob = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :])
        return key.open(blob, table=table, row_id=row_id).decode()
    except (SealingError, binascii.Error, ValueError) as error:  # UnicodeDecodeError is a ValueError
        log.error("sealed data damaged", table=table, row_id=str(row_id), error=type(error).__name__)
        raise SealedDataDamaged(table, row_id) from None


class MemberKeyRing:
    """Members' data keys for one session: read (many at once), created on first use, cached.

    The only statements here are on `vault_member_key`, the one table every sealed column depends on."""

    def __init__(self, session: AsyncSession, master_keys: MasterKeys) -> None:
        self.session = session
        self.master_keys = master_keys
        self._keys: dict[uuid.UUID, DataKey] = {}

    async def key(self, account_id: uuid.UUID, *, create: bool) -> DataKey | None:
        if account_id not in self._keys:
            await self.load([account_id])
        if account_id not in self._keys and create:
            key = self.master_keys.new_data_key()
            version, wrapped = self.master_keys.wrap(key, account_id)
            # Two first uses at once (two applications sent together) must agree on one key.
            await self.session.execute(
                insert(VaultMemberKey)
                .values(account_id=account_id, master_version=version, wrapped_key=wrapped)
                .on_conflict_do_nothing(index_elements=["account_id"])
            )
            await self.load([account_id])
        return self._keys.get(account_id)

    async def load(self, account_ids: Iterable[uuid.UUID]) -> None:
        wanted = {account_id for account_id in account_ids if account_id not in self._keys}
        if not wanted:
            return
        rows = await self.session.execute(
            select(VaultMemberKey.account_id, VaultMemberKey.master_version, VaultMemberKey.wrapped_key).where(
                VaultMemberKey.account_id.in_(wanted)  # type: ignore[attr-defined]
            )
        )
        for account_id, version, wrapped in rows:
            self._keys[account_id] = self.master_keys.unwrap(version, wrapped, account_id)

    def loaded(self, account_id: uuid.UUID) -> DataKey | None:
        return self._keys.get(account_id)
