"""Moving to another cooperative: the archive imports there, verified; hostile archives change nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import time
import zipfile

from joserfc import jws
from joserfc.jwk import OKPKey
from litestar.testing import AsyncTestClient
from pydantic import SecretStr
from sqlalchemy.engine import URL

from app.db.engine import open_database
from app.main import create_app
from app.settings import Settings
from app.vault.credentials import manifest_statement
from app.vault.crypto import MasterKeys, development_master_key, new_master_key_entry, parse_master_keys
from app.vault.importer import sign_recovery_proof
from app.vault.keys import rotate_member_keys
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD, Mailbox
from tests.integration.conftest import Actors, sign_in
from tests.integration.platform.conftest import assert_problem, connect, table_counts
from tests.integration.vault.conftest import OtherCoop
from tests.integration.vault.helpers import export, member_with_history, ok, paid_member, stable_content

OTHER_DID = "did:web:other.coop.test"


def rezip(archive: zipfile.ZipFile, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name in archive.namelist():
            out.writestr(name, (replace or {}).get(name, archive.read(name)))
        for name, data in (add or {}).items():
            out.writestr(name, data)
    return buffer.getvalue()


async def reset_token(mailbox: Mailbox, address: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in reversed(mailbox.to(address)):
            body = message.get_payload(decode=True).decode()
            if "other.coop.test" in body and "token=" in body:
                return body.split("token=", 1)[1].split()[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reset mail from the new cooperative to {address}")


async def send(other: OtherCoop, data: bytes, proof: str | None):
    headers = {"content-type": "application/zip"}
    if proof:
        headers["coop-recovery-proof"] = proof
    return await other.client.post("/api/v1/vault/imports", content=data, headers=headers)


async def test_a_member_moves_with_their_archive_and_a_round_trip_keeps_it_whole(
    client: AsyncTestClient,
    actors: Actors,
    other_coop: OtherCoop,
    mailbox: Mailbox,
    settings: Settings,
    database_url: URL,
) -> None:
    await member_with_history(client, actors)
    await paid_member(client, actors, settings, database_url)
    recovery = ok(await client.post("/api/v1/me/vault/recovery-key", headers=actors.owner.headers), 201)
    assert (
        ok(await client.get("/api/v1/me/vault/recovery-key", headers=actors.owner.headers))["private_key_pem"] is None
    )
    data, archive = await export(client, actors.owner)
    manifest = archive.read("manifest.json")
    proof = sign_recovery_proof(recovery["private_key_pem"], manifest, OTHER_DID)
    db = await connect(other_coop.database_url)
    try:
        before = await table_counts(db)

        # Hostile or unprovable archives: a problem document each, and not one row written.
        stranger = OKPKey.generate_key("Ed25519", private=True).as_pem(private=True).decode()
        header = jws.extract_compact(archive.read("manifest.jws")).protected
        forged_signature = jws.serialize_compact(
            header, manifest_statement(manifest), OKPKey.import_key(stranger), algorithms=["EdDSA"]
        )
        applications = archive.read("applications.json").replace(b"Disponible", b"Indisponible")
        invoices = archive.read("invoices.json")
        assert b'"total_ttc_minor":180000' in invoices
        inflated = invoices.replace(b'"total_ttc_minor":180000', b'"total_ttc_minor":1800000')
        bomb = b"\0" * (8 * 1024 * 1024)
        hostile = {
            "unknown issuer": (data, proof, "vault-issuer-unknown"),
        }
        for label, (body, sent_proof, problem) in hostile.items():
            refused = await send(other_coop, body, sent_proof)
            assert refused.status_code == 422, (label, refused.text)
            assert assert_problem(refused)["type"] == f"urn:coop:problem:{problem}", label
        assert await table_counts(db) == before

        # The new cooperative trusts the old one's published keys (kept, not fetched: it may be gone).
        did = ok(await client.get("/.well-known/did.json"))
        jwks = ok(await client.get("/.well-known/jwks.json"))
        ok(
            await other_coop.client.post(
                "/api/v1/vault/trusted-issuers",
                json={"did": did["id"], "name": "First cooperative", "keys": jwks["keys"]},
                headers=other_coop.admin.headers,
            ),
            201,
        )
        before = await table_counts(db)
        hostile = {
            "forged signature": (rezip(archive, {"manifest.jws": forged_signature.encode()}), proof, "signature"),
            "tampered file": (rezip(archive, {"applications.json": applications}), proof, "archive-tampered"),
            "inflated invoice": (rezip(archive, {"invoices.json": inflated}), proof, "archive-tampered"),
            "zip bomb": (rezip(archive, add={"bomb.json": bomb}), proof, "archive-unsafe"),
            "path traversal": (rezip(archive, add={"../../etc/cron.d/evil.json": b"{}"}), proof, "archive-unsafe"),
            "absolute name": (rezip(archive, add={"/tmp/evil.json": b"{}"}), proof, "archive-unsafe"),
            "not a zip": (b"PK\x03\x04 not really", proof, "archive-unsafe"),
            "no proof": (data, None, "recovery-proof-invalid"),
            "someone else's proof": (data, sign_recovery_proof(stranger, manifest, OTHER_DID), "recovery-proof"),
            "proof for another coop": (data, sign_recovery_proof(recovery["private_key_pem"], manifest, "x"), "recov"),
        }
        for label, (body, sent_proof, problem) in hostile.items():
            refused = await send(other_coop, body, sent_proof)
            assert refused.status_code == 422, (label, refused.text)
            assert problem in assert_problem(refused)["type"], (label, refused.text)
        assert await table_counts(db) == before, "a refused import wrote something"

        moved = ok(await send(other_coop, data, proof), 201)
    finally:
        await db.close()
    assert moved["issuer"] == did["id"] and moved["member_status"] == "applicant"
    assert moved["records"]["applications"] == 3 and moved["credentials"] == 3
    # Payments come as read-only history: the journal, the invoices and the payouts of the old cooperative.
    assert (moved["records"]["ledger_lines"], moved["records"]["invoices"], moved["records"]["payouts"]) == (3, 2, 1)
    again = await send(other_coop, data, proof)
    assert again.status_code == 409, "one account per address"

    # The member sets a password through the mailed reset link, then signs in at the new cooperative.
    # The owner also gets this cooperative's marketplace and payments mails, sent in the background: wait
    # for the new cooperative's reset mail itself rather than take whichever arrived last.
    token = await reset_token(mailbox, actors.owner.email)
    ok(
        await other_coop.client.post(
            "/api/v1/auth/password-reset", json={"token": token, "new_password": TEST_PASSWORD}
        ),
        204,
    )
    member = await sign_in(other_coop.client, actors.owner.email)
    # Nothing was booked in the new cooperative's journal: the history is a record, not money owed here.
    ledger = ok(await other_coop.client.get("/api/v1/payments/ledger/mine", headers=member.headers))
    assert ledger["balance_minor"] == 0 and ledger["items"] == []
    credentials = ok(await other_coop.client.get("/api/v1/me/vault/credentials", headers=member.headers))
    assert {c["issuer"] for c in credentials} == {did["id"]} and len(credentials) == 3

    # Exported again from the new cooperative: the same content, byte for byte, volatile files aside.
    _, again_archive = await export(other_coop.client, member)
    assert stable_content(again_archive) == stable_content(archive)
    moved_manifest = json.loads(again_archive.read("manifest.json"))
    assert moved_manifest["issuer"]["did"] == OTHER_DID
    account = json.loads(again_archive.read("account.json"))
    assert f"urn:uuid:{actors.owner.account_id}" in account["identifiers"]
    assert hashlib.sha256(again_archive.read("resume.json")).hexdigest() == stable_content(archive)["resume.json"]

    # Rotation: a new master key version re-wraps every data key, then the old version can go.
    secret = other_coop.settings.secret_key.get_secret_value()
    old_entry = "1:" + base64.b64encode(development_master_key(secret)).decode()
    new_entry = new_master_key_entry(2)
    database = open_database(other_coop.settings, other_coop.database_url)
    try:
        assert await rotate_member_keys(database, MasterKeys(parse_master_keys([old_entry, new_entry]))) == 1
        assert await rotate_member_keys(database, MasterKeys(parse_master_keys([old_entry, new_entry]))) == 0
    finally:
        await database.dispose()
    rotated = other_coop.settings.model_copy(update={"vault_master_keys": [SecretStr(new_entry)]})
    app = create_app(rotated, passwords=FAST_PASSWORDS)
    async with AsyncTestClient(app=app, base_url="http://other.coop.test") as rotated_client:
        _, rotated_archive = await export(rotated_client, member)
    assert stable_content(rotated_archive) == stable_content(archive), "the imported history opens under the new key"
