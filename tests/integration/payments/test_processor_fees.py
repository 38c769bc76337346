"""Stripe's processing fee, booked once a payment succeeds, borne by the cooperative.

localstripe cannot serve this: its balance transactions always report `fee: 0` (it models no
pricing), so a payment through it books no fee (test_collection.py checks that nothing is booked
then). Here the Stripe API is a loopback server answering one recorded response: a PaymentIntent
retrieved with `expand[]=latest_charge.balance_transaction`, shaped as Stripe returns it
(`recorded/payment_intent_with_fee.json`: 1,800.00 EUR by card, fee 27.25, i.e. 1.5 % + 0.25).
The real `StripeGateway` (the SDK, its HTTP client and its parsing) reads it; the webhook delivery
is signed as Stripe signs it, and the fee is read by the inbox worker as in production."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pydantic import SecretStr
from sqlalchemy.engine import URL

from app.db.engine import open_database
from app.db.url import asyncpg_dsn
from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS
from tests.integration.conftest import Actors
from tests.integration.payments import factories
from tests.integration.payments.conftest import API_KEY, WEBHOOK_SECRET, signed_event
from tests.integration.payments.test_webhooks import WEBHOOK, _drain

RECORDED = json.loads((Path(__file__).parent / "recorded" / "payment_intent_with_fee.json").read_text())
FEE = RECORDED["latest_charge"]["balance_transaction"]["fee"]


def balance_transaction_id(intent_id: str) -> str:
    return f"txn_{intent_id[3:27]}"


def recorded_intent(intent_id: str) -> dict[str, Any]:
    """The recorded answer, under the asked PaymentIntent (each with its own balance transaction)."""
    answer = copy.deepcopy(RECORDED)
    answer["id"] = answer["latest_charge"]["payment_intent"] = intent_id
    answer["latest_charge"]["balance_transaction"]["id"] = balance_transaction_id(intent_id)
    return answer


class RecordedStripe:
    """Answers GET /v1/payment_intents/<id> with the recorded PaymentIntent (under the asked id) and
    GET /v1/refunds with an empty list (for the reconciliation), and keeps each request's path and
    query for the test to check."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        recorded = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                recorded.requests.append((parts.path, parse_qs(parts.query)))
                prefix = "/v1/payment_intents/"
                if parts.path == "/v1/refunds":  # the reconciliation's listing: none were made
                    answer: dict[str, Any] = {"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"}
                elif parts.path.startswith(prefix):
                    answer = recorded_intent(parts.path[len(prefix) :])
                else:
                    self.send_error(404)
                    return
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def recorded_stripe() -> Iterator[RecordedStripe]:
    recorded = RecordedStripe()
    thread = threading.Thread(target=recorded.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded
    finally:
        recorded.server.shutdown()
        recorded.server.server_close()


@pytest.fixture
def fee_settings(settings: Settings, recorded_stripe: RecordedStripe) -> Settings:
    return settings.model_copy(
        update={
            "stripe_api_base": recorded_stripe.url,
            "stripe_api_key": SecretStr(API_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "payments_tick_seconds": 0.2,
        }
    )


@pytest.fixture
def app(fee_settings: Settings) -> Litestar:
    return create_app(fee_settings, passwords=FAST_PASSWORDS)


async def test_the_fee_is_read_from_the_balance_transaction_and_booked_once(
    client: AsyncTestClient, actors: Actors, fee_settings: Settings, database_url: URL, recorded_stripe: RecordedStripe
) -> None:
    database = open_database(fee_settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            worker = await factories.member(session, "Fee Member")
            billed = await factories.billed_milestone(
                session, fee_settings, worker=worker, client=await factories.customer(session), amount_ht_minor=150000
            )
    finally:
        await database.dispose()
    assert billed.amount_minor == RECORDED["amount"]

    succeeded = {
        "id": billed.intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": billed.amount_minor,
        "latest_charge": RECORDED["latest_charge"]["id"],  # a bare id in webhooks: the fee needs a read
        "metadata": {},
    }
    body, headers = signed_event("payment_intent.succeeded", succeeded)
    for _ in range(3):  # delivered three times: one payment, one fee read, one fee booked
        assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    await _drain(database_url)

    reads = [query for path, query in recorded_stripe.requests if path == f"/v1/payment_intents/{billed.intent_id}"]
    assert reads == [{"expand[0]": ["latest_charge.balance_transaction"]}]

    summary = (await client.get("/api/v1/payments/ledger/summary", headers=actors.other_member.headers)).json()
    balances = {row["account"]: row["balance_minor"] for row in summary["balances"]}
    assert balances["processor_fees"] == FEE == 2725
    assert balances["treasury"] == billed.amount_minor - FEE
    assert balances["escrow"] == billed.amount_minor  # the client's money is held whole: the fee is ours

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        fees = await connection.fetch("select external_ref, memo from ledger_transaction where kind = 'processor_fee'")
        assert [row["external_ref"] for row in fees] == [balance_transaction_id(billed.intent_id)]
        # Released later, the member gets the quoted share: the fee is not taken from it.
        await connection.execute(
            "update milestone set delivered_at = now() - interval '15 days' where id = $1", billed.milestone_id
        )
        member_code = f"member:{worker.id}"
        for _ in range(100):
            owed = await connection.fetchval(
                "select -coalesce(sum(e.amount_minor), 0) from ledger_entry e"
                " join ledger_account a on a.id = e.account_id where a.code = $1",
                member_code,
            )
            if owed:
                break
            await asyncio.sleep(0.1)
        assert owed == 150000 - 15000  # 1,500.00 before tax less the 10 % contribution, nothing less
    finally:
        await connection.close()


async def test_reconciliation_lists_a_fee_that_was_not_booked(
    client: AsyncTestClient, actors: Actors, fee_settings: Settings, database_url: URL, recorded_stripe: RecordedStripe
) -> None:
    database = open_database(fee_settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            worker, customer = await factories.member(session), await factories.customer(session)
            read, unread = [
                await factories.billed_milestone(
                    session, fee_settings, worker=worker, client=customer, amount_ht_minor=150000
                )
                for _ in range(2)
            ]
    finally:
        await database.dispose()
    for billed, charge in ((read, RECORDED["latest_charge"]["id"]), (unread, None)):
        intent = {"id": billed.intent_id, "object": "payment_intent", "status": "succeeded", "amount": 180000}
        # An event without `latest_charge` (as from an older API version) gives no way to read the fee.
        body, headers = signed_event("payment_intent.succeeded", {**intent, "latest_charge": charge})
        assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    await _drain(database_url)

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "payments", "reconcile"],
        env={
            **os.environ,
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "COOP_DATA_DIR": str(fee_settings.data_dir),
            "STRIPE_API_BASE": recorded_stripe.url,
            "STRIPE_API_KEY": API_KEY,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    said = " ".join(result.stdout.split())
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{unread.intent_id}: Stripe's fee is {FEE}, ledger booked 0" in said
    assert read.intent_id not in said and "1 difference(s)" in said
