"""Helpers of the vault tests: a member with a history, an export downloaded and opened, its checks."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from typing import Any

from joserfc import jws
from joserfc.jwk import KeySet
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.engine import open_database
from app.db.transaction import UnitOfWork
from app.models import Payment
from app.payments.service import PaymentsService
from app.settings import Settings
from tests.integration.conftest import Actor, Actors, sign_in
from tests.integration.members.factories import profile_body, publish_profile, skill_id
from tests.integration.missions.helpers import apply, open_mission, staffed_and_delivered
from tests.integration.payments.conftest import another_admin
from tests.integration.payments.helpers import accepted_quote


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def member_with_history(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """The owner: a published profile with skills, a delivered mission reviewed both ways (attesting
    a skill), an application still open, and a secret ballot cast in a closed vote."""
    python = await skill_id(client, "python")
    postgres = await skill_id(client, "postgresql")
    accessibility = await skill_id(client, "web-accessibility")
    await publish_profile(client, actors.owner, profile_body([(python, 4), (postgres, 3)]))
    mission = await staffed_and_delivered(client, actors.client, actors.owner)
    reviews = f"/api/v1/missions/{mission['id']}/reviews"
    ok(
        await client.post(
            reviews,
            json={
                "subject_id": actors.owner.account_id,
                "rating": 5,
                "text": "Travail soigné, sur la base de données.",
                "skills_seen": [python, accessibility],
            },
            headers=actors.client.headers,
        ),
        201,
    )
    ok(
        await client.post(
            reviews,
            json={"subject_id": actors.client.account_id, "rating": 4, "text": "Client clair et réactif."},
            headers=actors.owner.headers,
        ),
        201,
    )
    other = await open_mission(client, actors.client, title="Audit d'accessibilité RGAA")
    await apply(client, actors.owner, other)
    return {"mission": mission["id"], "other_mission": other["id"]}


# The member's own IBAN (the cooperative's, in the settings, is another one).
MEMBER_IBAN = "FR14 2004 1010 0505 0001 3M02 606"
MEMBER_IBAN_COMPACT = MEMBER_IBAN.replace(" ", "")


async def paid_member(client: AsyncTestClient, actors: Actors, settings: Settings, database_url: URL) -> dict[str, Any]:
    """The owner, engaged by the client on a quote of two milestones: the first delivered, invoiced, paid,
    accepted (its escrow released to the owner), and paid out to the owner's IBAN in a run approved by a
    second administrator. The second milestone is invoiced and unpaid. Returns the invoices and the run."""
    quote = await accepted_quote(client, actors)
    owner = actors.owner.headers
    invoices = []
    for milestone in quote["milestones"]:
        ok(await client.post(f"/api/v1/payments/milestones/{milestone['id']}/deliver", headers=owner))
        invoices.append(
            ok(await client.post(f"/api/v1/payments/milestones/{milestone['id']}/invoice", headers=owner), 201)
        )
    # The client's card payment of the first invoice, booked as the webhook worker books a succeeded
    # PaymentIntent (Stripe's side is the payments tests' business, with localstripe).
    database = open_database(settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            payments = PaymentsService(UnitOfWork(session), settings)
            payment_id = uuid.uuid4()
            payment = Payment(
                id=payment_id,
                invoice_id=uuid.UUID(invoices[0]["id"]),
                amount_minor=invoices[0]["total_ttc_minor"],
                currency="EUR",
                idempotency_key=f"coop-payment-{payment_id}",
                payment_intent_id=f"pi_{payment_id.hex[:24]}",
            )
            await payments.repository.add(payment)
            assert await payments.book_payment(payment)
    finally:
        await database.dispose()
    first = quote["milestones"][0]["id"]
    ok(await client.post(f"/api/v1/payments/milestones/{first}/accept", headers=actors.client.headers))
    ok(
        await client.put(
            "/api/v1/payments/me/bank-account",
            json={"holder_name": "Camille Martin", "iban": MEMBER_IBAN},
            headers=owner,
        )
    )
    run = ok(await client.post("/api/v1/payments/payout-runs", json={}, headers=actors.admin.headers), 201)
    second = await sign_in(client, await another_admin(settings, database_url), name="second admin")
    run = ok(await client.post(f"/api/v1/payments/payout-runs/{run['id']}/approve", headers=second.headers))
    return {"invoices": invoices, "run": run}


async def export(client: AsyncTestClient, actor: Actor) -> tuple[bytes, zipfile.ZipFile]:
    started = ok(await client.post("/api/v1/me/vault/exports", headers=actor.headers), 201)
    response = await client.get(started["download_url"], headers=actor.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/zip")
    data = response.content
    return data, zipfile.ZipFile(io.BytesIO(data))


def did_keys(did_document: dict[str, Any]) -> KeySet:
    """The DID document's keys, named by their verification method (what the signatures' `kid` say)."""
    return KeySet.import_key_set(
        {"keys": [{**m["publicKeyJwk"], "kid": m["id"]} for m in did_document["verificationMethod"]]}
    )


def verified_manifest(archive: zipfile.ZipFile, did_document: dict[str, Any]) -> dict[str, Any]:
    """The manifest, once its signature (by a key of the DID document) and every file's SHA-256 check."""
    manifest_bytes = archive.read("manifest.json")
    signature = archive.read("manifest.jws").decode()
    verified = jws.deserialize_compact(signature, did_keys(did_document), algorithms=["EdDSA"])
    assert json.loads(verified.payload) == {"manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest()}
    manifest = json.loads(manifest_bytes)
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(archive.namelist()) - {"manifest.json", "manifest.jws"} == set(listed)
    for path, entry in listed.items():
        data = archive.read(path)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
        assert len(data) == entry["bytes"], path
    return manifest


def stable_content(archive: zipfile.ZipFile) -> dict[str, str]:
    """SHA-256 of every file a round trip must keep (the manifest's volatile files aside)."""
    manifest = json.loads(archive.read("manifest.json"))
    return {
        entry["path"]: entry["sha256"] for entry in manifest["files"] if entry["path"] not in manifest["volatile_files"]
    }
