"""The webhook inbox: each Stripe event verified, stored once and processed in any order (retried on later
ticks by the background loop, up to five attempts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.models import Payment, WebhookEvent
from app.payments.service_base import FEE_EVENT_TYPE, STATUS_RANK, PaymentsServiceBase, event_created, log


class InboxRules(PaymentsServiceBase):
    # -- the webhook inbox ---------------------------------------------------------------------------

    async def receive(self, raw_body: bytes, signature: str | None) -> bool:
        """Verify and store an event; True when it is new. Processing happens later, in the background."""
        event = self._gateway().verify_event(raw_body, signature)
        return await self.repository.store_event(event.id, event.type, event.payload)

    async def _payment_for(self, obj: dict[str, Any], intent_id: str | None) -> Payment | None:
        payment = await self.repository.payment_by_intent(intent_id) if intent_id else None
        if payment is None:
            metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            raw = metadata.get("payment_id") if metadata else None
            try:
                payment = await self.repository.payment(uuid.UUID(str(raw))) if raw else None
            except ValueError:
                payment = None
            if payment is not None and payment.payment_intent_id is None and intent_id:
                payment.payment_intent_id = intent_id
        return payment

    async def process(self, event: WebhookEvent) -> None:
        """Apply one stored event. Order does not matter: statuses only move forward and every booking
        is keyed by its Stripe id; a refund or dispute seen first books its payment on the way."""
        obj: dict[str, Any] = event.payload.get("data", {}).get("object", {})
        kind = event.type
        if kind.startswith("payment_intent."):
            payment = await self._payment_for(obj, obj.get("id"))
            if payment is None:
                log.info("webhook for an unknown payment", event_id=event.event_id, type=kind)
                return
            if kind == "payment_intent.succeeded":
                await self.book_payment(payment, event_created(event))
                if obj.get("latest_charge") and payment.payment_intent_id:
                    # The fee is read from Stripe later, by its own inbox entry (retried on its own).
                    await self.repository.store_event(
                        f"coop_fee_{payment.payment_intent_id}",
                        FEE_EVENT_TYPE,
                        {"data": {"object": {"payment_intent": payment.payment_intent_id}}},
                    )
            elif kind in ("payment_intent.processing", "payment_intent.payment_failed", "payment_intent.canceled"):
                target = {"payment_intent.processing": "processing"}.get(kind, "failed")
                if kind == "payment_intent.canceled":
                    target = "canceled"
                if STATUS_RANK[target] > STATUS_RANK[payment.status]:
                    payment.status, payment.updated_at = target, datetime.now(UTC)
            return
        if kind in ("charge.refunded", "charge.refund.updated", "refund.created", "refund.updated"):
            refunds = obj.get("refunds", {}).get("data", []) if obj.get("object") == "charge" else [obj]
            for refund in refunds:
                if refund.get("status") not in ("succeeded", None):
                    continue
                payment = await self._payment_for(obj, refund.get("payment_intent") or obj.get("payment_intent"))
                if payment is not None:
                    await self.book_refund(payment, refund["id"], int(refund["amount"]))
            return
        if kind in ("charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed"):
            payment = await self._payment_for(obj, obj.get("payment_intent"))
            if payment is None:
                return
            status = str(obj.get("status") or "")
            # An inquiry (`warning_*`) withdraws no money and costs no fee: nothing is booked unless it
            # escalates (then `funds_withdrawn`). An outcome seen before the opening books it on the way.
            withdrawn = kind == "charge.dispute.funds_withdrawn" or status in ("won", "lost")
            if withdrawn or (kind == "charge.dispute.created" and not status.startswith("warning_")):
                await self.book_refund(payment, obj["id"], int(obj["amount"]), kind="dispute")
            if kind == "charge.dispute.closed" and status == "won":
                await self.book_dispute_won(payment, obj["id"])
            return
        if kind == FEE_EVENT_TYPE:
            intent_id = str(obj.get("payment_intent") or "")
            payment = await self.repository.payment_by_intent(intent_id)
            if payment is None:
                return
            fee = await self._gateway().charge_fee(intent_id)  # a provider error fails the entry: retried
            if fee is None:
                log.info("no balance transaction yet: no processor fee booked", payment=str(payment.id))
            else:
                await self.book_processor_fee(payment, fee)
            return
        log.info("webhook event type not handled", type=kind)
