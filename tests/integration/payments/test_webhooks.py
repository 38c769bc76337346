"""Webhook deliveries as Stripe makes them (and as localstripe cannot): the same event many times, in
any order, a refund seen before its payment, a dispute. Each is signed with the endpoint's secret and
posted to the API; the background worker must apply each event exactly once and book each payment
once. Escrow is released by the background loop when the client stays silent after delivery."""

from __future__ import annotations

import asyncio
import random
import time

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db.engine import open_database
from app.db.transaction import UnitOfWork
from app.db.url import asyncpg_dsn
from app.payments.background import PaymentsWorker
from app.payments.service import PaymentsService
from app.settings import Settings
from tests.integration.conftest import Actors
from tests.integration.payments import factories
from tests.integration.payments.conftest import signed_event
from tests.integration.payments.helpers import accepted_quote

WEBHOOK = "/api/v1/payments/stripe/webhook"


async def _invoice_and_intent(client: AsyncTestClient, actors: Actors, milestone_id: str) -> tuple[dict, str]:
    invoice = await client.post(f"/api/v1/payments/milestones/{milestone_id}/invoice", headers=actors.owner.headers)
    paid = await client.post(
        f"/api/v1/payments/invoices/{invoice.json()['id']}/payments", json={}, headers=actors.client.headers
    )
    assert paid.status_code == 201, paid.text
    return invoice.json(), paid.json()["payment_intent_id"]


async def _drain(database_url: URL) -> None:
    """Wait for the background worker (woken by each new delivery) to empty the inbox."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        deadline = time.monotonic() + 15
        while await connection.fetchval("select count(*) from webhook_event where processed_at is null"):
            assert time.monotonic() < deadline, "the inbox was not processed"
            await asyncio.sleep(0.1)
    finally:
        await connection.close()


async def test_duplicates_and_any_order_book_each_payment_once(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    quote = await accepted_quote(client, actors)
    first, intent_a = await _invoice_and_intent(client, actors, quote["milestones"][0]["id"])  # 1,800.00
    second, intent_b = await _invoice_and_intent(client, actors, quote["milestones"][1]["id"])  # 1,200.00

    def intent(intent_id: str, status: str, amount: int) -> dict:
        return {"id": intent_id, "object": "payment_intent", "status": status, "amount": amount, "metadata": {}}

    events = [
        # A refund that arrives before the payment it refunds was ever booked.
        signed_event(
            "charge.refunded",
            {
                "id": "ch_a",
                "object": "charge",
                "payment_intent": intent_a,
                "amount": 180000,
                "refunds": {"data": [{"id": "re_a1", "amount": 50000, "status": "succeeded"}]},
            },
        ),
        signed_event("payment_intent.succeeded", intent(intent_a, "succeeded", 180000)),
        signed_event("payment_intent.processing", intent(intent_a, "processing", 180000)),  # late: ignored
        signed_event("payment_intent.succeeded", intent(intent_b, "succeeded", 120000)),
        # Disputes: localstripe has none, so this is built here, as Stripe sends it.
        signed_event(
            "charge.dispute.created",
            {"id": "dp_b", "object": "dispute", "payment_intent": intent_b, "charge": "ch_b", "amount": 120000},
        ),
    ]
    deliveries = [event for event in events for _ in range(4)]  # every event delivered four times
    random.Random(11).shuffle(deliveries)
    answers = [await client.post(WEBHOOK, content=body, headers=headers) for body, headers in deliveries]
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers if a.status_code != 200]
    assert sum(not answer.json()["duplicate"] for answer in answers) == len(events)

    # Forged or unsigned deliveries are refused before anything is stored.
    body, headers = signed_event("payment_intent.succeeded", intent(intent_b, "succeeded", 999))
    forged = await client.post(WEBHOOK, content=body.replace(b"999", b"1"), headers=headers)
    assert forged.status_code == 400 and forged.json()["type"] == "urn:coop:problem:invalid-webhook-signature"
    unsigned = await client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 400

    await _drain(database_url)
    a = (await client.get(f"/api/v1/payments/invoices/{first['id']}", headers=actors.client.headers)).json()
    b = (await client.get(f"/api/v1/payments/invoices/{second['id']}", headers=actors.client.headers)).json()
    assert (a["payment_status"], a["paid_minor"], a["refunded_minor"]) == ("succeeded", 180000, 50000)
    assert (b["payment_status"], b["refunded_minor"]) == ("succeeded", 120000)

    summary = (await client.get("/api/v1/payments/ledger/summary", headers=actors.other_member.headers)).json()
    balances = {row["account"]: row["balance_minor"] for row in summary["balances"]}
    assert balances["treasury"] == 180000 + 120000 - 50000 - 120000 - 1500  # less the dispute fee
    assert balances["escrow"] == 130000 and balances["dispute_fees"] == 1500

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        kinds = dict(await connection.fetch("select kind, count(*) from ledger_transaction group by kind"))
        assert kinds == {"client_payment": 2, "refund": 1, "dispute": 1, "dispute_fee": 1}
        stored = await connection.fetchrow("select count(*), count(processed_at) from webhook_event")
        assert tuple(stored) == (len(events), len(events))
    finally:
        await connection.close()


async def test_silence_after_delivery_releases_escrow(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    quote = await accepted_quote(client, actors)
    milestone = quote["milestones"][0]["id"]
    await client.post(f"/api/v1/payments/milestones/{milestone}/deliver", headers=actors.owner.headers)
    _, intent_id = await _invoice_and_intent(client, actors, milestone)
    body, headers = signed_event(
        "payment_intent.succeeded",
        {"id": intent_id, "object": "payment_intent", "status": "succeeded", "amount": 180000},
    )
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    await _drain(database_url)
    mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == 0  # held: delivered, not yet accepted, delay not over

    # Fifteen days of silence (COOP_ESCROW_RELEASE_DAYS is 14): the background loop releases it.
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "update milestone set delivered_at = now() - interval '15 days' where id = $1::uuid", milestone
        )
    finally:
        await connection.close()
    deadline = time.monotonic() + 15
    while mine["balance_minor"] == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        mine = (await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers)).json()
    assert mine["balance_minor"] == 135000  # 1,500.00 before tax less the 10 % contribution
    quote_now = (await client.get(f"/api/v1/payments/quotes/{quote['id']}", headers=actors.client.headers)).json()
    assert quote_now["milestones"][0]["released_at"] is not None and quote_now["milestones"][0]["status"] == "delivered"


async def test_a_failing_event_leaves_the_rest_of_its_batch_applied(database_url: URL, settings: Settings) -> None:
    """The worker applies a batch whole; when one event fails, the others still take effect once and
    the failing one keeps its error for a retry. (The worker is driven here, without a server, so that
    the events are certainly claimed in one batch.)"""
    database = open_database(settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            worker, customer = await factories.member(session), await factories.customer(session)
            billed = [
                await factories.billed_milestone(
                    session, settings, worker=worker, client=customer, amount_ht_minor=1000
                )
                for _ in range(3)
            ]
            repository = PaymentsService(UnitOfWork(session), settings).repository
            for item in billed:
                body = {"id": item.intent_id, "object": "payment_intent", "status": "succeeded", "amount": 1200}
                await repository.store_event(
                    f"evt_ok_{item.payment_id.hex}", "payment_intent.succeeded", {"data": {"object": body}}
                )
            poison = {"id": "dp_bad", "object": "dispute", "payment_intent": billed[0].intent_id, "amount": "lots"}
            await repository.store_event("evt_poison", "charge.dispute.created", {"data": {"object": poison}})

        payments_worker = PaymentsWorker(database, settings, None)
        assert await payments_worker.process_batch() == 4
        assert await payments_worker.process_batch() == 1  # only the failing one is claimed again
        async with database.sessionmaker() as session:
            rows = (
                await session.execute(
                    text("select event_id, attempts, processed_at is not null, last_error from webhook_event")
                )
            ).all()
            state = {row[0]: row[1:] for row in rows}
            assert state.pop("evt_poison")[:2] == (2, False)
            assert all(value[:2] == (1, True) and value[2] is None for value in state.values()), state
            kinds = dict(
                (await session.execute(text("select kind, count(*) from ledger_transaction group by kind"))).all()
            )
            assert kinds == {"client_payment": 3}
    finally:
        await database.dispose()
