"""localstripe as a real process on a loopback port, once per test session, and Stripe-side helpers.

localstripe (a fake, stateful Stripe) serves PaymentIntents, payment methods and refunds and signs the
webhooks it sends. It has no idempotency keys, no disputes, no Connect, no retries, reports every fee
as 0 and sends no `charge.refunded`: those deliveries are built and signed by `signed_event` below,
with the same secret, so the webhook endpoint verifies them exactly as it would Stripe's (and a
recorded Stripe answer serves the fee: test_processor_fees.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from pydantic import SecretStr
from sqlalchemy.engine import URL

from app.accounts.service import AccountService
from app.accounts.tokens import SigningKeys
from app.core.mail import LogMailer
from app.db.engine import open_database
from app.db.transaction import UnitOfWork
from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD, free_port

WEBHOOK_SECRET = "whsec_test_coop_platform"
API_KEY = "sk_test_coop_platform"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    port = free_port()
    executable = shutil.which("localstripe", path=str(Path(sys.executable).parent)) or "localstripe"
    process = subprocess.Popen(
        [executable, "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/v1/balance", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_settings(settings: Settings, localstripe: str) -> Settings:
    return settings.model_copy(
        update={
            "stripe_api_base": localstripe,
            "stripe_api_key": SecretStr(API_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "payments_tick_seconds": 0.2,
        }
    )


def stripe_call(base: str, method: str, path: str, **form: Any) -> dict[str, Any]:
    """What Stripe.js does in the client's browser, done from the test: plain form-encoded API calls."""
    response = httpx.request(
        method, f"{base}{path}", data=form, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def confirm_with_card(base: str, intent_id: str) -> dict[str, Any]:
    method = stripe_call(
        base,
        "POST",
        "/v1/payment_methods",
        **{
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
    )
    stripe_call(base, "POST", f"/v1/payment_intents/{intent_id}", payment_method=method["id"])
    return stripe_call(base, "POST", f"/v1/payment_intents/{intent_id}/confirm")


def signed_event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """An event as Stripe would deliver it: JSON body and a `Stripe-Signature` over `t.body`."""
    created = int(time.time())
    body = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": created,
            "type": event_type,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
        }
    ).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), str(created).encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={created},v1={signature}", "Content-Type": "application/json"}


@pytest.fixture
def app(stripe_settings: Settings) -> Litestar:
    """The payments tests' application talks to localstripe (the rest of the suite never calls Stripe)."""
    return create_app(stripe_settings, passwords=FAST_PASSWORDS)


async def another_admin(settings: Settings, database_url: URL) -> str:
    """A second administrator, made as the operator makes them (the CLI's code path), for four-eyes checks."""
    database = open_database(settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            service = AccountService(
                UnitOfWork(session), settings, FAST_PASSWORDS, SigningKeys.from_settings(settings), LogMailer()
            )
            email = f"second.admin.{uuid.uuid4().hex[:8]}@example.org"
            await service.create_admin(email=email, password=TEST_PASSWORD, display_name="Second admin")
    finally:
        await database.dispose()
    return email
