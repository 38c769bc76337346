"""Members' IBANs and account holders' names are sealed under the member's own data key: revision 0011
re-seals what the payments key encrypted (its downgrade writes it back), the payout run still writes the
IBAN into the SEPA file, and a damaged sealed row answers a stable 500 problem, logged by table and row."""

from __future__ import annotations

import base64
import logging
import uuid

import pytest
from alembic import command
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from litestar.testing import AsyncTestClient
from pydantic import SecretStr
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrations import alembic_config
from app.settings import Settings
from tests.integration.conftest import Actors, sign_in
from tests.integration.payments.conftest import another_admin
from tests.integration.payments.test_payouts import IBAN, _owed_member
from tests.integration.platform.conftest import connect

COMPACT = IBAN.replace(" ", "")


async def migrate(database_url: URL, settings: Settings, revision: str, *, down: bool = False) -> None:
    """`coop migrate` with the server's settings (the revision reads the keys from them)."""
    engine = create_async_engine(database_url)

    def run(sync) -> None:  # type: ignore[no-untyped-def]
        config = alembic_config(database_url, sync)
        config.attributes["settings"] = settings
        (command.downgrade if down else command.upgrade)(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


def development_payments_key(settings: Settings) -> AESGCM:
    """The payments key as docs/payments.md described it before 0011 (no COOP_PAYMENTS_KEY: HKDF of the secret)."""
    assert settings.payments_encryption_key is None
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"coop-platform iban v1").derive(
        settings.secret_key.get_secret_value().encode()
    )
    return AESGCM(key)


async def test_revision_0011_reseals_and_the_payout_still_reads_the_iban(
    client: AsyncTestClient, actors: Actors, database_url: URL, stripe_settings: Settings, localstripe: str
) -> None:
    await _owed_member(client, actors, localstripe)
    saved = await client.put(
        "/api/v1/payments/me/bank-account",
        json={"holder_name": "Owner Member", "iban": IBAN},
        headers=actors.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    member = uuid.UUID(actors.owner.account_id)
    db = await connect(database_url)
    try:
        sealed = await db.fetchrow("select holder_name, iban_sealed from member_bank_account")
        assert await db.fetchval("select count(*) from vault_member_key where account_id = $1", member) == 1

        # Down to 0010: the IBAN under the payments key again (as the code before 0011 opened it), the name in clear.
        await migrate(database_url, stripe_settings, "0010", down=True)
        old = await db.fetchrow("select * from member_bank_account")
        assert "iban_sealed" not in set(old.keys()) and old["holder_name"] == "Owner Member"
        cipher = development_payments_key(stripe_settings)
        opened = cipher.decrypt(old["iban_nonce"], old["iban_ciphertext"], member.bytes)
        assert opened.decode() == COMPACT

        # Up again: sealed under the member's key, with fresh nonces; the old columns are gone.
        await migrate(database_url, stripe_settings, "head")
        new = await db.fetchrow("select * from member_bank_account")
        assert not {"iban_ciphertext", "iban_nonce"} & set(new.keys())
        for column in ("holder_name", "iban_sealed"):
            assert new[column].startswith("coop-sealed:1:") and new[column] != sealed[column]
        assert "Owner Member" not in str(dict(new)) and COMPACT not in str(dict(new))
    finally:
        await db.close()

    shown = await client.get("/api/v1/payments/me/bank-account", headers=actors.owner.headers)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["holder_name"], shown.json()["iban_masked"]) == ("Owner Member", "**** **** **** 0189")
    # The approval opens the IBAN (through the member's key) to write the transfer.
    run = (await client.post("/api/v1/payments/payout-runs", json={}, headers=actors.admin.headers)).json()
    second = await sign_in(client, await another_admin(stripe_settings, database_url), name="admin")
    approved = await client.post(f"/api/v1/payments/payout-runs/{run['id']}/approve", headers=second.headers)
    assert approved.status_code == 200, approved.text
    sepa = await client.get(f"/api/v1/payments/payout-runs/{run['id']}/sepa", headers=actors.admin.headers)
    assert f"<IBAN>{COMPACT}</IBAN>" in sepa.text and "<Nm>Owner Member</Nm>" in sepa.text


@pytest.mark.parametrize("damage", ["altered", "copied from another member"])
async def test_a_damaged_sealed_bank_account_answers_a_stable_500_and_is_logged_by_row(
    client: AsyncTestClient, actors: Actors, database_url: URL, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    for actor, name in ((actors.owner, "Owner Member"), (actors.other_member, "Other Member")):
        saved = await client.put(
            "/api/v1/payments/me/bank-account", json={"holder_name": name, "iban": IBAN}, headers=actor.headers
        )
        assert saved.status_code == 200, saved.text
    owner = uuid.UUID(actors.owner.account_id)
    db = await connect(database_url)
    try:
        if damage == "altered":  # one character of the ciphertext changed
            await db.execute(
                "update member_bank_account set holder_name = overlay(holder_name placing"
                " (case when substr(holder_name, 30, 1) = 'A' then 'B' else 'A' end) from 30 for 1)"
                " where member_id = $1",
                owner,
            )
        else:  # a valid ciphertext, of someone else's row
            await db.execute(
                "update member_bank_account set holder_name = (select holder_name from member_bank_account"
                " where member_id = $2) where member_id = $1",
                owner,
                uuid.UUID(actors.other_member.account_id),
            )
    finally:
        await db.close()

    with caplog.at_level(logging.ERROR):
        response = await client.get("/api/v1/payments/me/bank-account", headers=actors.owner.headers)
    assert response.status_code == 500 and response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:coop:problem:sealed-data-damaged" and problem["request_id"]
    assert "Other Member" not in response.text
    logged = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    damaged = [event for event in logged if event.get("event") == "sealed data damaged"]
    assert damaged == [
        {
            **damaged[0],
            "table": "member_bank_account.holder_name",
            "row_id": str(owner),
            "request_id": problem["request_id"],
        }
    ], "the log names the table and row, and the request the problem names"
    assert "Other Member" not in caplog.text and "coop-sealed:1:" not in caplog.text, "never the content"
    # The other member's row is untouched and still reads.
    other = await client.get("/api/v1/payments/me/bank-account", headers=actors.other_member.headers)
    assert other.status_code == 200 and other.json()["holder_name"] == "Other Member"


async def test_revision_0011_with_a_payments_key_refuses_the_wrong_key_and_changes_nothing(
    client: AsyncTestClient, actors: Actors, database_url: URL, settings: Settings
) -> None:
    saved = await client.put(
        "/api/v1/payments/me/bank-account",
        json={"holder_name": "Owner Member", "iban": IBAN},
        headers=actors.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    key = bytes(range(32))
    with_key = settings.model_copy(update={"payments_encryption_key": SecretStr(base64.b64encode(key).decode())})
    member = uuid.UUID(actors.owner.account_id)
    await migrate(database_url, with_key, "0010", down=True)
    db = await connect(database_url)
    try:
        old = await db.fetchrow("select * from member_bank_account")
        assert AESGCM(key).decrypt(old["iban_nonce"], old["iban_ciphertext"], member.bytes).decode() == COMPACT

        # Run with another key than the one the IBANs were encrypted with: refused, naming the member,
        # and nothing of the revision is applied (one transaction).
        with pytest.raises(RuntimeError, match=str(member)):
            await migrate(database_url, settings, "head")
        assert await db.fetchval("select version_num from alembic_version") == "0010"
        assert await db.fetchrow("select * from member_bank_account") == old

        await migrate(database_url, with_key, "head")
        assert (await db.fetchval("select iban_sealed from member_bank_account")).startswith("coop-sealed:1:")
    finally:
        await db.close()
    shown = await client.get("/api/v1/payments/me/bank-account", headers=actors.owner.headers)
    assert shown.status_code == 200 and shown.json()["holder_name"] == "Owner Member"
