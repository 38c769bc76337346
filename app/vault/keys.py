"""The vault's master keys from the settings (COOP_VAULT_MASTER_KEYS, or version 1 from COOP_SECRET_KEY),
and their rotation. Never logs a key."""

from __future__ import annotations

from app.core.sealing import MasterKeys, master_keys_from_settings
from app.db.engine import Database
from app.vault.repository import VaultRepository
from app.vault.service import VaultKeys

__all__ = ["master_keys_from_settings", "rotate_member_keys"]


async def rotate_member_keys(database: Database, master_keys: MasterKeys, batch: int = 500) -> int:
    """Re-wraps every member's data key under the newest master key, a batch per transaction; once it has
    run, the older master keys can be removed from COOP_VAULT_MASTER_KEYS. Returns how many were re-wrapped."""
    total = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            done = await VaultKeys(VaultRepository(session), master_keys).rewrap(batch)
        total += done
        if done < batch:
            return total
