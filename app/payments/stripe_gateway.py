"""The only module that imports `stripe`: PaymentIntents, refunds, reads for reconciliation and the
verification of webhook signatures.

The rest of the code sees our own frozen dataclasses, never SDK objects. Every write carries an
idempotency key derived from our own ids. The API version is pinned so that payload shapes never
change under us. An import-linter contract keeps `stripe` out of every other module.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from app.payments.gateway import Event, Fee, Intent, InvalidSignature, PaymentProviderError, RefundResult

API_VERSION = "2024-06-20"


class StripeGateway:
    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,  # safe: every write has an idempotency key
        )

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
    ) -> Intent:
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "metadata": metadata,
            "payment_method_types": [method],
        }
        if payment_method is not None:
            params["payment_method"] = payment_method
        if confirm:
            params["confirm"] = True
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise PaymentProviderError(_message(error)) from None
        return _intent(intent)

    async def retrieve_intent(self, intent_id: str) -> Intent:
        try:
            return _intent(await self._client.v1.payment_intents.retrieve_async(intent_id))
        except stripe.StripeError as error:
            raise PaymentProviderError(_message(error)) from None

    async def charge_fee(self, intent_id: str) -> Fee | None:
        """Stripe reports its fee on the charge's balance transaction, not on the PaymentIntent nor in
        the webhook (where `latest_charge` is a bare id): one read, expanded two levels."""
        try:
            intent = await self._client.v1.payment_intents.retrieve_async(
                intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            )
        except stripe.StripeError as error:
            raise PaymentProviderError(_message(error)) from None
        charge = getattr(intent, "latest_charge", None)
        transaction = getattr(charge, "balance_transaction", None) if charge is not None else None
        if transaction is None or isinstance(transaction, str):
            return None  # not settled yet (e.g. SEPA debit still processing)
        currency = str(transaction.currency).upper()
        return Fee(id=transaction.id, amount_minor=int(transaction.fee or 0), currency=currency)

    async def refund(self, *, intent_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise PaymentProviderError(_message(error)) from None
        return RefundResult(
            id=refund.id,
            status=refund.status or "pending",
            amount_minor=refund.amount,
            payment_intent_id=_id(getattr(refund, "payment_intent", None)),
        )

    async def refunds_of(self, intent_id: str) -> list[RefundResult]:
        try:
            page = await self._client.v1.refunds.list_async(params={"payment_intent": intent_id, "limit": 100})
        except stripe.StripeError as error:
            raise PaymentProviderError(_message(error)) from None
        return [
            RefundResult(id=r.id, status=r.status or "", amount_minor=r.amount, payment_intent_id=intent_id)
            for r in page.data
        ]

    async def test_card(self) -> str:
        """A card PaymentMethod for tests and the demo (Stripe's and localstripe's 4242 test card)."""
        try:
            method = await self._client.v1.payment_methods.create_async(
                params={
                    "type": "card",
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
                }  # type: ignore[typeddict-item]
            )
        except stripe.StripeError as error:
            raise PaymentProviderError(_message(error)) from None
        return method.id

    def verify_event(self, raw_body: bytes, signature: str | None) -> Event:
        """Verify the signature on the raw body (never on re-encoded JSON), then read the event. Only the
        SDK's signature check is used: its event objects (built for calling back into the API) are not
        needed here, and the JSON is read once."""
        try:
            stripe.WebhookSignature.verify_header(
                raw_body, signature or "", self._webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
            payload = json.loads(raw_body)
        except (stripe.SignatureVerificationError, ValueError):
            raise InvalidSignature() from None
        data = payload.get("data") if isinstance(payload, dict) else None
        obj = data.get("object") if isinstance(data, dict) else None
        # (an object found implies the payload is a dict)
        if not (isinstance(obj, dict) and isinstance(payload.get("id"), str) and isinstance(payload.get("type"), str)):
            raise InvalidSignature("The event has no id, no type or no object.")
        created = payload.get("created")
        return Event(
            id=payload["id"],
            type=payload["type"],
            created=created if isinstance(created, int) else 0,
            object=obj,
            payload=payload,
        )


def _intent(intent: Any) -> Intent:
    return Intent(
        id=intent.id,
        client_secret=getattr(intent, "client_secret", None),
        status=intent.status,
        amount_minor=intent.amount,
        currency=str(intent.currency).upper(),
    )


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return getattr(value, "id", None)


def _message(error: Exception) -> str:
    return (getattr(error, "user_message", None) or str(error) or "the payment provider failed")[:300]
