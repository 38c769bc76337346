"""Payouts: an IBAN checked and encrypted at rest, a run prepared by one administrator and approved by
another, its pain.001.001.09 file valid against the schema, and a refund after the payout leaving the
member's balance negative (netted against later payouts)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import sepaxml
from litestar.testing import AsyncTestClient
from lxml import etree
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from app.settings import Settings
from tests.integration.conftest import Actors, sign_in
from tests.integration.payments.conftest import another_admin, confirm_with_card, signed_event
from tests.integration.payments.helpers import accepted_quote

IBAN = "FR76 3000 6000 0112 3456 7890 189"
SEPA_SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"


async def _owed_member(client: AsyncTestClient, actors: Actors, localstripe: str) -> str:
    """The owner delivered, was paid 1,800.00 and the client accepted: 1,350.00 owed. Returns the invoice id."""
    quote = await accepted_quote(client, actors)
    milestone = quote["milestones"][0]["id"]
    await client.post(f"/api/v1/payments/milestones/{milestone}/deliver", headers=actors.owner.headers)
    invoice = (
        await client.post(f"/api/v1/payments/milestones/{milestone}/invoice", headers=actors.owner.headers)
    ).json()
    paid = await client.post(
        f"/api/v1/payments/invoices/{invoice['id']}/payments", json={}, headers=actors.client.headers
    )
    # Confirmed at localstripe (so it can be refunded); its own webhook cannot reach this in-process app,
    # so the event it would send is delivered here, signed alike.
    assert confirm_with_card(localstripe, paid.json()["payment_intent_id"])["status"] == "succeeded"
    body, headers = signed_event(
        "payment_intent.succeeded",
        {"id": paid.json()["payment_intent_id"], "object": "payment_intent", "status": "succeeded", "amount": 180000},
    )
    assert (await client.post("/api/v1/payments/stripe/webhook", content=body, headers=headers)).status_code == 200
    deadline = time.monotonic() + 15
    while (await client.get(f"/api/v1/payments/invoices/{invoice['id']}", headers=actors.client.headers)).json()[
        "payment_status"
    ] != "succeeded":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    accepted = await client.post(f"/api/v1/payments/milestones/{milestone}/accept", headers=actors.client.headers)
    assert accepted.status_code == 200, accepted.text
    return invoice["id"]


async def test_iban_run_four_eyes_sepa_and_refund_after_payout(
    client: AsyncTestClient, actors: Actors, database_url: URL, stripe_settings: Settings, localstripe: str
) -> None:
    invoice_id = await _owed_member(client, actors, localstripe)
    assert (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()[
        "balance_minor"
    ] == 135000

    refused = await client.put(
        "/api/v1/payments/me/bank-account",
        json={"holder_name": "Owner Member", "iban": "FR76 3000 6000 0112 3456 7890 188"},
        headers=actors.owner.headers,
    )
    assert refused.status_code == 422 and refused.json()["type"] == "urn:coop:problem:invalid-iban"
    saved = await client.put(
        "/api/v1/payments/me/bank-account",
        json={"holder_name": "Owner Member", "iban": IBAN},
        headers=actors.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["iban_masked"] == "**** **** **** 0189" and saved.json()["bic"] == "AGRIFRPPXXX"
    assert (
        await client.get("/api/v1/payments/me/bank-account", headers=actors.other_member.headers)
    ).status_code == 404
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        # Both sealed under the member's own data key (erasure destroys it): no IBAN, no name at rest.
        stored = await connection.fetchrow("select holder_name, iban_sealed, iban_last4 from member_bank_account")
        assert stored["holder_name"].startswith("coop-sealed:1:") and stored["iban_sealed"].startswith("coop-sealed:1:")
        assert not any(part in str(dict(stored)) for part in ("30006000011234567890189", "FR76", "Owner Member"))
        assert stored["iban_last4"] == "0189"
    finally:
        await connection.close()

    second_admin = await sign_in(client, await another_admin(stripe_settings, database_url), name="admin")
    prepared = await client.post("/api/v1/payments/payout-runs", json={}, headers=actors.admin.headers)
    assert prepared.status_code == 201, prepared.text
    run = prepared.json()
    assert run["status"] == "prepared" and run["total_minor"] == 135000
    [line] = run["lines"]
    assert (line["member_id"], line["amount_minor"], line["status"]) == (actors.owner.account_id, 135000, "pending")
    assert (
        await client.get(f"/api/v1/payments/payout-runs/{run['id']}/sepa", headers=actors.admin.headers)
    ).status_code == 409
    # Four eyes: the administrator who prepared the run cannot approve it.
    same = await client.post(f"/api/v1/payments/payout-runs/{run['id']}/approve", headers=actors.admin.headers)
    assert same.status_code == 403 and same.json()["type"] == "urn:coop:problem:four-eyes"
    approved = await client.post(f"/api/v1/payments/payout-runs/{run['id']}/approve", headers=second_admin.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["lines"][0]["status"] == "submitted"
    again = await client.post(f"/api/v1/payments/payout-runs/{run['id']}/approve", headers=second_admin.headers)
    assert again.status_code == 409
    # The list shows the run as it is now, without its lines, to administrators only.
    listed = await client.get("/api/v1/payments/payout-runs", headers=actors.admin.headers)
    assert listed.status_code == 200, listed.text
    [summary] = [item for item in listed.json()["items"] if item["id"] == run["id"]]
    assert (summary["status"], summary["total_minor"], summary["approved_by_id"]) == (
        "approved",
        135000,
        second_admin.account_id,
    )
    assert summary["prepared_by_id"] == actors.admin.account_id and "lines" not in summary
    assert listed.json()["total"] >= 1
    assert (await client.get("/api/v1/payments/payout-runs", headers=actors.owner.headers)).status_code == 403
    for hostile in ("limit=0", "limit=100000", "offset=-1", "limit=1%27%20or%201=1", "offset=%00"):
        refused = await client.get(f"/api/v1/payments/payout-runs?{hostile}", headers=actors.admin.headers)
        assert refused.status_code == 400 and refused.headers["content-type"].startswith("application/problem+json")

    sepa = await client.get(f"/api/v1/payments/payout-runs/{run['id']}/sepa", headers=actors.admin.headers)
    assert sepa.status_code == 200 and sepa.headers["content-type"].startswith("application/xml")
    document = etree.fromstring(sepa.content)
    etree.XMLSchema(etree.parse(str(SEPA_SCHEMA))).assertValid(document)
    namespace = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert document.findtext(".//p:EndToEndId", namespaces=namespace) == line["end_to_end_id"]
    # The group header names the run, so the bank's status report can be matched back to it.
    assert (
        document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=namespace) == approved.json()["message_id"]
    )
    assert document.findtext(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=namespace) == "1350.00"
    assert document.findtext(".//p:CdtTrfTxInf//p:IBAN", namespaces=namespace) == IBAN.replace(" ", "")
    # The same file every time: a submitted line is never regenerated.
    assert (
        await client.get(f"/api/v1/payments/payout-runs/{run['id']}/sepa", headers=actors.admin.headers)
    ).content == sepa.content
    nobody = await client.post("/api/v1/payments/payout-runs", json={}, headers=actors.admin.headers)
    assert nobody.status_code == 409

    # The client is refunded 600.00 after the member was paid: the member now owes 450.00 back.
    refund = await client.post(
        f"/api/v1/payments/invoices/{invoice_id}/refunds", json={"amount_minor": 60000}, headers=actors.admin.headers
    )
    assert refund.status_code == 201, refund.text
    mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == -45000
    assert [item["kind"] for item in mine["items"]] == ["escrow_release", "contribution", "payout", "refund"]

    executed = await client.post(
        f"/api/v1/payments/payout-lines/{line['id']}/outcome",
        json={"outcome": "executed"},
        headers=actors.admin.headers,
    )
    assert executed.json()["status"] == "executed"
    twice = await client.post(
        f"/api/v1/payments/payout-lines/{line['id']}/outcome",
        json={"outcome": "returned"},
        headers=actors.admin.headers,
    )
    assert twice.status_code == 409
    # Negative balances are netted: nobody is owed, so there is no run to prepare.
    assert (await client.post("/api/v1/payments/payout-runs", json={}, headers=actors.admin.headers)).status_code == 409
