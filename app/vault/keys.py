"""The vault's master keys from the settings (COOP_VAULT_MASTER_KEYS, or version 1 from COOP_SECRET_KEY),
and their rotation. Never logs a key."""

from __future__ import annotations

from app.db.engine import Database
from app.settings import Settings
from app.vault.crypto import MasterKeys, development_master_key, parse_master_keys
from app.vault.repository import VaultRepository
from app.vault.service import VaultKeys


def master_keys_from_settings(settings: Settings) -> MasterKeys:
    entries = [entry.get_secret_value() for entry in settings.vault_master_keys]
    if entries:
        return MasterKeys(parse_master_keys(entries))
    return MasterKeys({1: development_master_key(settings.secret_key.get_secret_value())})


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
