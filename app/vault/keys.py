"""The vault's master keys from the settings (COOP_VAULT_MASTER_KEYS, or version 1 from COOP_SECRET_KEY)."""

from __future__ import annotations

from app.settings import Settings
from app.vault.crypto import MasterKeys, development_master_key, parse_master_keys


def master_keys_from_settings(settings: Settings) -> MasterKeys:
    entries = [entry.get_secret_value() for entry in settings.vault_master_keys]
    if entries:
        return MasterKeys(parse_master_keys(entries))
    return MasterKeys({1: development_master_key(settings.secret_key.get_secret_value())})
