"""Encryption at rest of the vault's personal data: the primitives live in `app.core.sealing` (missions
seal their applications' messages with the same per-member keys); this module keeps the vault's names.

* Each member has a random 256-bit data key; the vault's personal fields are AES-256-GCM ciphertext
  under it, with the table and row id as associated data.
* The data key is stored wrapped by a versioned master key; rotation re-wraps (`coop vault rotate-keys`).
* Erasing a member deletes their wrapped key: every ciphertext under it becomes noise, backups included.
"""

from __future__ import annotations

from app.core.sealing import (
    KEY_BYTES,
    NONCE_BYTES,
    DataKey,
    MasterKeys,
    development_master_key,
    new_master_key_entry,
    parse_master_keys,
)
from app.core.sealing import SealingError as VaultKeyError

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "DataKey",
    "MasterKeys",
    "VaultKeyError",
    "development_master_key",
    "new_master_key_entry",
    "parse_master_keys",
]
