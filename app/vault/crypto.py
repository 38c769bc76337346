"""Encryption at rest of the vault's personal data: a data key per member, wrapped by a master key.

* Each member has a random 256-bit data key; the vault's personal fields are AES-256-GCM ciphertext
  under it, with the table and row id as associated data, so a ciphertext copied onto another row
  (or another table) fails to decrypt instead of leaking someone else's data.
* The data key is stored wrapped (AES-256-GCM) by a versioned master key from the settings, with the
  member's account id as associated data. Rotation: add a new version, then `rewrap` every member key
  (`coop vault rotate-keys`); the data itself is never re-encrypted.
* Erasing a member deletes their wrapped key: every ciphertext under it becomes noise, including copies
  in backups taken before the erasure.

This module never touches the database and never logs a key or a plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32


class VaultKeyError(Exception):
    """A key is missing or a ciphertext does not open under it."""


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise VaultKeyError("ciphertext too short")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as error:
        raise VaultKeyError("ciphertext does not open under this key and row") from error


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


@dataclass(frozen=True)
class DataKey:
    """A member's data key, unwrapped for the length of one request or one export."""

    key: bytes

    def seal(self, plaintext: bytes, *, table: str, row_id: uuid.UUID) -> bytes:
        return _seal(self.key, plaintext, _row_aad(table, row_id))

    def open(self, blob: bytes, *, table: str, row_id: uuid.UUID) -> bytes:
        return _open(self.key, blob, _row_aad(table, row_id))


def _row_aad(table: str, row_id: uuid.UUID) -> bytes:
    return b"coop/vault/row/" + table.encode() + b"/" + row_id.bytes


def _wrap_aad(account_id: uuid.UUID, version: int) -> bytes:
    return b"coop/vault/member-key/" + account_id.bytes + version.to_bytes(4, "big")


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
            raise VaultKeyError(f"master key version {version} is not configured")
        return DataKey(_open(key, wrapped, _wrap_aad(account_id, version)))
