"""Disputes through signed webhook deliveries, built here as Stripe sends them (localstripe has no
disputes): one the cooperative wins is reversed on the ledger exactly once, whatever the order and
however often the events come, and the money goes where it would be without the dispute: back to
escrow while the milestone is held, to the member (a re-release) when it was released in between or
before. A lost dispute stays booked. The dispute fee stays in every case (Stripe keeps it)."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from tests.integration.conftest import Actors
from tests.integration.payments.conftest import signed_event
from tests.integration.payments.helpers import accepted_quote
from tests.integration.payments.test_webhooks import WEBHOOK, _drain, _invoice_and_intent

PAID = 180000  # milestone 0: 1,500.00 before tax, VAT 20 %
MEMBER_SHARE = 135000  # less the 10 % contribution
DISPUTE_FEE = 1500


def _dispute(dispute_id: str, intent_id: str, status: str) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "payment_intent": intent_id,
        "charge": f"ch_{intent_id[-8:]}",
        "amount": PAID,
        "currency": "eur",
        "reason": "fraudulent",
        "status": status,
    }


def _succeeded(intent_id: str) -> tuple[bytes, dict[str, str]]:
    return signed_event(
        "payment_intent.succeeded",
        {"id": intent_id, "object": "payment_intent", "status": "succeeded", "amount": PAID, "metadata": {}},
    )


async def _deliver(client: AsyncTestClient, events: list[tuple[bytes, dict[str, str]]], times: int, seed: int) -> None:
    deliveries = [event for event in events for _ in range(times)]
    random.Random(seed).shuffle(deliveries)
    for body, headers in deliveries:
        answer = await client.post(WEBHOOK, content=body, headers=headers)
        assert answer.status_code == 200, answer.text


async def _balances(client: AsyncTestClient, actors: Actors) -> dict[str, int]:
    summary = (await client.get("/api/v1/payments/ledger/summary", headers=actors.other_member.headers)).json()
    return {row["account"]: row["balance_minor"] for row in summary["balances"]}


async def _kinds(database_url: URL) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return dict(await connection.fetch("select kind, count(*) from ledger_transaction group by kind"))
    finally:
        await connection.close()


async def test_won_dispute_on_held_money_goes_back_to_escrow_once(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    quote = await accepted_quote(client, actors)
    invoice, intent = await _invoice_and_intent(client, actors, quote["milestones"][0]["id"])
    events = [
        _succeeded(intent),
        signed_event("charge.dispute.created", _dispute("dp_held", intent, "needs_response")),
        signed_event("charge.dispute.closed", _dispute("dp_held", intent, "won")),
    ]
    # Every event three times, shuffled: the outcome may come before the opening, or before the payment.
    await _deliver(client, events, 3, seed=5)
    await _drain(database_url)

    balances = await _balances(client, actors)
    assert balances["escrow"] == PAID  # held again, in full
    assert balances["treasury"] == PAID - DISPUTE_FEE
    assert balances["dispute_fees"] == DISPUTE_FEE
    assert await _kinds(database_url) == {"client_payment": 1, "dispute": 2, "dispute_fee": 1}
    seen = (await client.get(f"/api/v1/payments/invoices/{invoice['id']}", headers=actors.client.headers)).json()
    assert seen["refunded_minor"] == 0

    # Accepted afterwards, the whole payment is released as if there had been no dispute.
    milestone = quote["milestones"][0]["id"]
    await client.post(f"/api/v1/payments/milestones/{milestone}/deliver", headers=actors.owner.headers)
    accepted = await client.post(f"/api/v1/payments/milestones/{milestone}/accept", headers=actors.client.headers)
    assert accepted.status_code == 200, accepted.text
    mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == MEMBER_SHARE


async def test_won_dispute_after_release_in_between_pays_the_member(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    quote = await accepted_quote(client, actors)
    milestone = quote["milestones"][0]["id"]
    await client.post(f"/api/v1/payments/milestones/{milestone}/deliver", headers=actors.owner.headers)
    _, intent = await _invoice_and_intent(client, actors, milestone)
    opened = signed_event("charge.dispute.created", _dispute("dp_mid", intent, "under_review"))
    await _deliver(client, [_succeeded(intent), opened], 2, seed=3)
    await _drain(database_url)
    assert (await _balances(client, actors))["escrow"] == 0  # all of it went back to the client

    # The client accepts the work while the dispute is open: nothing is left to release.
    accepted = await client.post(f"/api/v1/payments/milestones/{milestone}/accept", headers=actors.client.headers)
    assert accepted.status_code == 200, accepted.text
    assert (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()["balance_minor"] == 0

    won = signed_event("charge.dispute.closed", _dispute("dp_mid", intent, "won"))
    await _deliver(client, [won], 4, seed=1)  # the same delivery four times
    await _drain(database_url)
    mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == MEMBER_SHARE  # the re-release: the member is paid as if never disputed
    balances = await _balances(client, actors)
    assert balances["escrow"] == 0 and balances["vat_payable"] == PAID - 150000
    assert balances["contributions"] == 15000 and balances["treasury"] == PAID - DISPUTE_FEE
    assert await _kinds(database_url) == {"client_payment": 1, "dispute": 2, "dispute_fee": 1}


async def test_won_dispute_after_release_restores_the_member_and_a_lost_one_stays(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    quote = await accepted_quote(client, actors)
    first, second = quote["milestones"][0]["id"], quote["milestones"][1]["id"]
    for milestone in (first, second):
        await client.post(f"/api/v1/payments/milestones/{milestone}/deliver", headers=actors.owner.headers)
    _, intent_won = await _invoice_and_intent(client, actors, first)
    _, intent_lost = await _invoice_and_intent(client, actors, second)
    lost_amount = 120000  # milestone 1: 1,000.00 before tax, VAT 20 %
    await _deliver(
        client,
        [
            _succeeded(intent_won),
            signed_event(
                "payment_intent.succeeded",
                {"id": intent_lost, "object": "payment_intent", "status": "succeeded", "amount": lost_amount},
            ),
        ],
        1,
        seed=0,
    )
    await _drain(database_url)
    for milestone in (first, second):
        accepted = await client.post(f"/api/v1/payments/milestones/{milestone}/accept", headers=actors.client.headers)
        assert accepted.status_code == 200, accepted.text
    both = MEMBER_SHARE + 90000
    mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == both

    lost = {**_dispute("dp_lost", intent_lost, "lost"), "amount": lost_amount}
    events = [
        signed_event("charge.dispute.created", _dispute("dp_won", intent_won, "needs_response")),
        signed_event("charge.dispute.closed", _dispute("dp_won", intent_won, "won")),
        # A lost dispute whose opening never arrived: booked from its outcome, never reversed.
        signed_event("charge.dispute.closed", lost),
    ]
    await _deliver(client, events, 3, seed=9)
    await _drain(database_url)
    mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == MEMBER_SHARE  # the won one restored; the lost one taken back
    balances = await _balances(client, actors)
    assert balances["treasury"] == PAID - 2 * DISPUTE_FEE
    assert balances["vat_payable"] == 30000 and balances["contributions"] == 15000
    assert await _kinds(database_url) == {
        "client_payment": 2,
        "escrow_release": 2,
        "contribution": 2,
        "dispute": 3,  # two disputes and one reversal
        "dispute_fee": 2,
    }


async def test_an_inquiry_books_nothing_until_it_escalates(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    quote = await accepted_quote(client, actors)
    _, quiet = await _invoice_and_intent(client, actors, quote["milestones"][0]["id"])
    _, escalated = await _invoice_and_intent(client, actors, quote["milestones"][1]["id"])
    inquiry = {**_dispute("dp_inquiry", quiet, "warning_needs_response")}
    second = {**_dispute("dp_escalated", escalated, "warning_needs_response"), "amount": 120000}
    events = [
        _succeeded(quiet),
        signed_event(
            "payment_intent.succeeded",
            {"id": escalated, "object": "payment_intent", "status": "succeeded", "amount": 120000},
        ),
        # An inquiry that closes without a chargeback: Stripe never took the money.
        signed_event("charge.dispute.created", inquiry),
        signed_event("charge.dispute.closed", {**inquiry, "status": "warning_closed"}),
        # An inquiry that becomes a chargeback: the money is withdrawn then, and booked once.
        signed_event("charge.dispute.created", second),
        signed_event("charge.dispute.funds_withdrawn", {**second, "status": "needs_response"}),
    ]
    await _deliver(client, events, 2, seed=4)
    await _drain(database_url)
    balances = await _balances(client, actors)
    assert balances["escrow"] == PAID and balances["dispute_fees"] == DISPUTE_FEE
    assert balances["treasury"] == PAID - DISPUTE_FEE
    assert await _kinds(database_url) == {"client_payment": 2, "dispute": 1, "dispute_fee": 1}
