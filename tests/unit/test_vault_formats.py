"""The vault's archive format: published JSON Schemas are current, and the crypto holds its promises."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from app.vault.crypto import MasterKeys, VaultKeyError, new_master_key_entry, parse_master_keys
from app.vault.records import json_schemas

DOCS = Path(__file__).resolve().parents[2] / "docs" / "vault"


def test_published_json_schemas_match_the_archive_structs() -> None:
    for name, schema in json_schemas().items():
        published = json.loads((DOCS / name).read_text())
        assert published == json.loads(json.dumps(schema)), f"docs/vault/{name} is stale: python -m app.vault.records"


def test_a_ciphertext_is_bound_to_its_row_and_its_key_to_its_member() -> None:
    keys = MasterKeys(parse_master_keys([new_master_key_entry(1)]))
    member, other = uuid.uuid4(), uuid.uuid4()
    data_key = keys.new_data_key()
    row = uuid.uuid4()
    sealed = data_key.seal(b"personal", table="vault_record", row_id=row)
    assert data_key.open(sealed, table="vault_record", row_id=row) == b"personal"
    with pytest.raises(VaultKeyError):
        data_key.open(sealed, table="vault_record", row_id=uuid.uuid4())
    with pytest.raises(VaultKeyError):
        data_key.open(sealed, table="vault_credential", row_id=row)
    version, wrapped = keys.wrap(data_key, member)
    assert keys.unwrap(version, wrapped, member) == data_key
    with pytest.raises(VaultKeyError):
        keys.unwrap(version, wrapped, other)


def test_rotation_adds_a_version_and_old_wrappings_still_open() -> None:
    old_entry, new_entry = new_master_key_entry(1), new_master_key_entry(2)
    old = MasterKeys(parse_master_keys([old_entry]))
    member = uuid.uuid4()
    data_key = old.new_data_key()
    version, wrapped = old.wrap(data_key, member)
    rotated = MasterKeys(parse_master_keys([old_entry, new_entry]))
    assert rotated.current_version == 2
    assert rotated.unwrap(version, wrapped, member) == data_key
    new_version, rewrapped = rotated.wrap(data_key, member)
    assert new_version == 2
    only_new = MasterKeys(parse_master_keys([new_entry]))
    assert only_new.unwrap(new_version, rewrapped, member) == data_key
    with pytest.raises(VaultKeyError):
        only_new.unwrap(version, wrapped, member)
