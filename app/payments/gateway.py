"""What the payments feature expects of a payment provider, in our own types: the `Gateway` protocol,
its results and its errors. `stripe_gateway.py` implements it; nothing here imports an SDK, so the
service and the controllers depend on this module only (the import contract checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from app.core.errors import AppError


class PaymentProviderError(AppError):
    status_code = 502
    slug = "payment-provider-error"
    title = "The payment provider refused or failed the request"


class InvalidSignature(AppError):
    status_code = 400
    slug = "invalid-webhook-signature"
    title = "The webhook's signature does not verify"


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str | None
    status: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount_minor: int
    payment_intent_id: str | None


@dataclass(frozen=True)
class Fee:
    """What the provider kept on a charge: its balance transaction's fee, in the settlement currency."""

    id: str  # the balance transaction (Stripe: txn_...), the fee's external reference
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: int
    object: dict[str, Any]  # data.object, as plain JSON
    payload: dict[str, Any]  # the whole event, as plain JSON (stored in the inbox)


class Gateway(Protocol):
    async def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
        method: str = "card",
        payment_method: str | None = None,
        confirm: bool = False,
    ) -> Intent: ...

    async def retrieve_intent(self, intent_id: str) -> Intent: ...

    async def charge_fee(self, intent_id: str) -> Fee | None:
        """The fee on the PaymentIntent's charge; None while the charge has no balance transaction."""
        ...

    async def refund(self, *, intent_id: str, amount_minor: int, idempotency_key: str) -> RefundResult: ...

    async def refunds_of(self, intent_id: str) -> list[RefundResult]: ...

    async def test_card(self) -> str: ...

    def verify_event(self, raw_body: bytes, signature: str | None) -> Event: ...
