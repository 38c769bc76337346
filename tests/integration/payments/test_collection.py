"""Collection against localstripe, end to end over real sockets: the client pays a milestone's invoice,
localstripe signs and delivers `payment_intent.succeeded` to the running API, the background worker
books it in escrow; the client accepts the milestone and the escrow is released less the contribution;
an administrator refunds part of it after release; reconciliation finds the ledger and Stripe agree."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from app.settings import Settings
from tests.integration.conftest import Actors, admit, create_admin_account, register, sign_in
from tests.integration.payments.conftest import API_KEY, WEBHOOK_SECRET, confirm_with_card, stripe_call
from tests.integration.payments.helpers import issued_invoice
from tests.integration.platform.conftest import live_server


async def _wait_for(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], done: Any, seconds: float = 20
) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        body = (await client.get(url, headers=headers)).json()
        if done(body) or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.2)


async def test_pay_release_refund_and_reconcile(stripe_settings: Settings, database_url: URL, localstripe: str) -> None:
    with live_server(stripe_settings) as live:
        stripe_call(
            localstripe,
            "POST",
            f"/_config/webhooks/coop-{uuid.uuid4().hex[:8]}",
            url=f"{live.base_url}/api/v1/payments/stripe/webhook",
            secret=WEBHOOK_SECRET,
        )
        async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
            admin = await sign_in(client, await create_admin_account(stripe_settings, database_url), name="admin")
            owner, other = await register(client, name="Owner Member"), await register(client, name="Other Member")
            for member in (owner, other):
                await admit(client, admin, member)
            owner.name, other.name = "owner", "other_member"
            customer = await register(client, role="client", name="Client Person")
            # Publishing a mission needs a verified address (the mailed link is tested in accounts).
            verified = await asyncpg.connect(asyncpg_dsn(database_url))
            try:
                await verified.execute(
                    "update account set email_verified_at = now() where id = $1", uuid.UUID(customer.account_id)
                )
            finally:
                await verified.close()
            actors = Actors(owner=owner, other_member=other, client=customer, admin=admin, anonymous=admin)
            invoice = await issued_invoice(client, actors)  # 1,500.00 + 20 % VAT = 1,800.00
            invoice_url = f"/api/v1/payments/invoices/{invoice['id']}"

            paid = await client.post(f"{invoice_url}/payments", json={"method": "card"}, headers=customer.headers)
            assert paid.status_code == 201, paid.text
            payment = paid.json()
            assert payment["amount_minor"] == 180000 and payment["payment_intent_id"].startswith("pi_")
            # A retry answers the same attempt: one PaymentIntent, never a second charge.
            again = await client.post(f"{invoice_url}/payments", json={"method": "card"}, headers=customer.headers)
            assert again.json()["payment_intent_id"] == payment["payment_intent_id"]
            assert (await client.post(f"{invoice_url}/payments", json={}, headers=owner.headers)).status_code == 403

            confirmed = confirm_with_card(localstripe, payment["payment_intent_id"])
            assert confirmed["status"] == "succeeded"
            seen = await _wait_for(client, invoice_url, customer.headers, lambda b: b["payment_status"] == "succeeded")
            assert seen["payment_status"] == "succeeded" and seen["paid_minor"] == 180000
            summary = await _wait_for(
                client,
                "/api/v1/payments/ledger/summary",
                owner.headers,
                lambda b: any(x["account"] == "escrow" and x["balance_minor"] for x in b["balances"]),
            )
            balances = {row["account"]: row["balance_minor"] for row in summary["balances"]}
            assert balances["treasury"] == 180000 and balances["escrow"] == 180000

            # Accepting the delivered milestone releases the escrow: VAT aside, 10 % contribution, the rest owed.
            milestone = invoice["milestone_id"]
            await client.post(f"/api/v1/payments/milestones/{milestone}/deliver", headers=owner.headers)
            accepted = await client.post(f"/api/v1/payments/milestones/{milestone}/accept", headers=customer.headers)
            assert accepted.json()["released_at"] is not None
            mine = (await client.get("/api/v1/payments/ledger/mine", headers=owner.headers)).json()
            assert mine["balance_minor"] == 135000
            assert [line["kind"] for line in mine["items"]] == ["escrow_release", "contribution"]
            assert (await client.get("/api/v1/payments/ledger/mine", headers=other.headers)).json()["items"] == []
            lines_url = f"/api/v1/payments/ledger/members/{owner.account_id}"
            assert (await client.get(lines_url, headers=admin.headers)).json()["balance_minor"] == 135000
            assert (await client.get(lines_url, headers=other.headers)).status_code == 404

            # A partial refund after release comes back out of VAT, the contribution and the member's share.
            refund = await client.post(f"{invoice_url}/refunds", json={"amount_minor": 60000}, headers=admin.headers)
            assert refund.status_code == 201, refund.text
            assert refund.json()["stripe_refund_id"].startswith("re_")
            mine = (await client.get("/api/v1/payments/ledger/mine", headers=owner.headers)).json()
            assert mine["balance_minor"] == 135000 - 45000
            too_much = await client.post(f"{invoice_url}/refunds", json={"amount_minor": 120001}, headers=admin.headers)
            assert too_much.status_code == 400

            summary = (await client.get("/api/v1/payments/ledger/summary", headers=other.headers)).json()
            balances = {row["account"]: row["balance_minor"] for row in summary["balances"]}
            assert balances["treasury"] == 120000 and balances["escrow"] == 0
            assert balances["vat_payable"] == 20000 and balances["contributions"] == 10000
            assert balances["members"] == 90000
            assert (
                sum(balances[a] for a in ("escrow", "vat_payable", "contributions", "members")) == balances["treasury"]
            )

            # localstripe's balance transactions report no fee (`fee: 0`): the fee is read, nothing is
            # booked (test_processor_fees.py books one from a recorded Stripe answer).
            assert "processor_fees" not in balances or balances["processor_fees"] == 0
            inbox = await asyncpg.connect(asyncpg_dsn(database_url))
            try:
                fee_read = await inbox.fetchrow(
                    "select processed_at, last_error from webhook_event where type = 'coop.processor_fee'"
                )
            finally:
                await inbox.close()
            assert fee_read is not None and fee_read["processed_at"] is not None and fee_read["last_error"] is None

            fec = await client.get("/api/v1/payments/ledger/fec", headers=admin.headers)
            rows = fec.text.rstrip("\r\n").split("\r\n")
            assert len(rows[0].split("\t")) == 18 and rows[0].startswith("JournalCode\tJournalLib\tEcritureNum")
            assert all(len(row.split("\t")) == 18 for row in rows[1:]) and len(rows) > 8

    # `coop payments reconcile`, as an operator runs it: the ledger and localstripe agree.
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "payments", "reconcile"],
        env={
            **os.environ,
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "COOP_DATA_DIR": str(stripe_settings.data_dir),
            "STRIPE_API_BASE": localstripe,
            "STRIPE_API_KEY": API_KEY,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 difference(s)" in result.stdout
