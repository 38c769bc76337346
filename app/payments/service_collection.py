"""Collecting a milestone through Stripe, refunds, booking what Stripe answers on the ledger (payments,
refunds, disputes, fees), and releasing escrow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from app.core.errors import Forbidden, InvalidInput
from app.models import Account, Invoice, Milestone, Payment, Quote, Refund
from app.payments import ledger
from app.payments.gateway import Fee, Gateway, PaymentProviderError
from app.payments.service_base import (
    DISPUTE_FEE_MINOR,
    InvoiceNotPayable,
    PaymentsServiceBase,
    is_admin,
    log,
    taken_so_far,
)


class CollectionRules(PaymentsServiceBase):
    # -- collection ----------------------------------------------------------------------------------

    def _gateway(self) -> Gateway:
        if self.gateway is None:
            raise PaymentProviderError("No payment provider is configured.")
        return self.gateway

    async def pay(self, viewer: Account, invoice_id: uuid.UUID, method: str) -> Payment:
        """A PaymentIntent for what is due; the attempt is recorded (and committed) before Stripe is called,
        and its id makes the idempotency key, so a retry never creates a second charge."""
        invoice = await self._visible_invoice(viewer, invoice_id)
        if viewer.id != invoice.client_id:
            raise Forbidden("The client pays its invoices.")
        if invoice.kind != "invoice":
            raise InvoiceNotPayable("A credit note is not paid.")
        payment = await self.repository.live_payment(invoice.id)
        if payment is not None and payment.status == "succeeded":
            raise InvoiceNotPayable("This invoice is paid.")
        if payment is not None and payment.payment_intent_id and payment.client_secret:
            return payment  # the same attempt, answered again
        if payment is None:
            due = invoice.total_ttc_minor - await self.repository.credited_total(invoice.id)
            if due <= 0:
                raise InvoiceNotPayable("Credit notes cover this invoice: nothing is due.")
            payment_id = uuid.uuid4()
            payment = Payment(
                id=payment_id,
                invoice_id=invoice.id,
                amount_minor=due,
                currency=invoice.currency,
                method=method,
                idempotency_key=f"coop-payment-{payment_id}",
            )
            await self.repository.add(payment)
            await self._durable()
        intent = await self._gateway().create_intent(
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            metadata={"payment_id": str(payment.id), "invoice": invoice.reference},
            method=payment.method,
        )
        payment.payment_intent_id, payment.client_secret = intent.id, intent.client_secret
        payment.updated_at = datetime.now(UTC)
        return payment

    async def refund(self, viewer: Account, invoice_id: uuid.UUID, amount_minor: int | None, reason: str) -> Refund:
        if not is_admin(viewer):
            raise Forbidden("Refunds are decided by administrators.")
        invoice = await self._visible_invoice(viewer, invoice_id)
        payment = await self.repository.live_payment(invoice.id)
        if payment is None or payment.status != "succeeded" or not payment.payment_intent_id:
            raise InvoiceNotPayable("Only a paid invoice is refunded.")
        await self.book_payment(payment)
        left = payment.amount_minor - payment.refunded_minor
        amount = left if amount_minor is None else amount_minor
        if amount <= 0 or amount > left:
            raise InvalidInput.field("amount_minor", f"At most {left} is left to refund.")
        refund_id = uuid.uuid4()
        refund = Refund(
            id=refund_id,
            payment_id=payment.id,
            amount_minor=amount,
            idempotency_key=f"coop-refund-{refund_id}",
            reason=reason,
            created_by_id=viewer.id,
        )
        await self.repository.add(refund)
        await self._durable()
        result = await self._gateway().refund(
            intent_id=payment.payment_intent_id, amount_minor=amount, idempotency_key=refund.idempotency_key
        )
        refund.stripe_refund_id, refund.status = result.id, result.status
        await self.repository.session.flush()
        if result.status == "succeeded":
            await self.book_refund(payment, result.id, result.amount_minor)
        return refund

    # -- booking (from API answers and webhook events alike; each is idempotent) ----------------------

    async def _context(self, payment: Payment) -> tuple[Invoice, Milestone, Quote]:
        found = await self.repository.invoice_context(payment.invoice_id)
        assert found is not None
        return found

    @staticmethod
    def _whole(payment: Payment, invoice: Invoice, quote: Quote) -> ledger.Split:
        vat = invoice.total_vat_minor * payment.amount_minor // invoice.total_ttc_minor
        return ledger.split(payment.amount_minor, vat, int(quote.contribution_rate_bp or 0))

    async def book_payment(self, payment: Payment, occurred_at: datetime | None = None) -> bool:
        """Money received: on the mission's escrow account. True when booked now, False if it already was."""
        if payment.status != "succeeded":
            payment.status, payment.updated_at = "succeeded", datetime.now(UTC)
        invoice, milestone, quote = await self._context(payment)
        booked = await self.repository.book(
            "client_payment",
            ledger.payment_postings(quote.mission_id, payment.amount_minor),
            external_ref=payment.payment_intent_id,
            memo=f"Payment of {invoice.reference}",
            mission_id=quote.mission_id,
            invoice_id=invoice.id,
            occurred_at=occurred_at,
        )
        if booked is not None and milestone.status == "accepted":
            await self.release(milestone, quote)
        return booked is not None

    async def book_refund(self, payment: Payment, reference: str, amount_minor: int, *, kind: str = "refund") -> bool:
        """Money back to the client (a refund or a dispute): from escrow while held, otherwise from VAT,
        the contribution and the member's account, which may go negative (netted on later payouts)."""
        await self.book_payment(payment)
        invoice, milestone, quote = await self._context(payment)
        left = payment.amount_minor - payment.refunded_minor
        amount = min(amount_minor, left)
        if amount <= 0:
            log.warning("refund beyond the payment ignored", payment=str(payment.id), reference=reference)
            return False
        part = ledger.share(self._whole(payment, invoice, quote), amount, taken_so_far(payment))
        booked = await self.repository.book(
            kind,
            ledger.refund_postings(quote.mission_id, quote.member_id, part, released=milestone.released_at is not None),
            external_ref=reference,
            memo=f"{kind.capitalize()} on {invoice.reference}",
            mission_id=quote.mission_id,
            invoice_id=invoice.id,
        )
        if booked is None:
            return False
        payment.refunded_minor += amount
        payment.refunded_vat_minor += part.vat_minor
        payment.refunded_contribution_minor += part.contribution_minor
        payment.updated_at = datetime.now(UTC)
        if kind == "dispute":
            await self.repository.book(
                "dispute_fee",
                ledger.fee_postings(DISPUTE_FEE_MINOR, ledger.DISPUTE_FEES),
                external_ref=reference,
                memo=f"Dispute fee on {invoice.reference}",
                invoice_id=invoice.id,
            )
        return True

    async def book_dispute_won(self, payment: Payment, dispute_id: str) -> bool:
        """Stripe reinstated the disputed money: a reversal of the dispute's transaction, once (keyed by
        the dispute). The money goes where it would be without the dispute: back to escrow while the
        milestone is held, otherwise to VAT, the contribution and the member, which is also the release
        of that money when the milestone was released between the dispute and its outcome. The dispute
        fee is not given back (Stripe keeps it). A dispute never booked (e.g. on a payment already
        refunded in full) has nothing to reverse."""
        amount = await self.repository.booked_amount("dispute", dispute_id)
        if amount <= 0:
            return False
        if amount > payment.refunded_minor:  # cannot happen unless the journal was edited by hand
            log.error("dispute reversal beyond what was taken", payment=str(payment.id), dispute=dispute_id)
            return False
        invoice, milestone, quote = await self._context(payment)
        # What comes back to each part: in proportion to what refunds and disputes took from it (exactly
        # what the dispute took when it was the only one).
        back = ledger.share(taken_so_far(payment), amount)
        booked = await self.repository.book(
            "dispute",
            ledger.dispute_reversal_postings(
                quote.mission_id, quote.member_id, back, released=milestone.released_at is not None
            ),
            external_ref=f"{dispute_id}:won",
            memo=f"Dispute won on {invoice.reference}: reversed",
            mission_id=quote.mission_id,
            invoice_id=invoice.id,
        )
        if booked is None:
            return False
        payment.refunded_minor -= amount
        payment.refunded_vat_minor -= back.vat_minor
        payment.refunded_contribution_minor -= back.contribution_minor
        payment.updated_at = datetime.now(UTC)
        return True

    async def book_processor_fee(self, payment: Payment, fee: Fee) -> bool:
        """Stripe's fee on the payment, borne by the cooperative (an expense paid from the treasury, which
        the contribution funds): the member's share is what the quote showed, never less a hidden fee.
        Once per balance transaction. Stripe keeps it when the payment is refunded, so nothing reverses it."""
        if fee.amount_minor <= 0:
            return False
        if fee.currency != payment.currency.upper():
            log.warning("processor fee in another currency not booked", payment=str(payment.id), fee=fee.id)
            return False
        invoice = await self.repository.invoice(payment.invoice_id)
        assert invoice is not None
        booked = await self.repository.book(
            "processor_fee",
            ledger.fee_postings(fee.amount_minor),
            external_ref=fee.id,
            memo=f"Stripe fee on {invoice.reference}",
            mission_id=invoice.mission_id,
            invoice_id=invoice.id,
        )
        return booked is not None

    async def release(self, milestone: Milestone, quote: Quote) -> bool:
        """Escrow to the member (less the contribution) once the milestone is paid and accepted (or its
        silence period is over). Idempotent: keyed by the milestone."""
        if milestone.released_at is not None:
            return False
        invoice = await self.repository.invoice_for_milestone(milestone.id)
        payment = await self.repository.live_payment(invoice.id) if invoice else None
        if invoice is None or payment is None or payment.status != "succeeded":
            return False
        if not await self.repository.is_booked("client_payment", payment.payment_intent_id or ""):
            return False
        milestone.released_at = datetime.now(UTC)
        left = payment.amount_minor - payment.refunded_minor
        if left <= 0:
            return True
        part = ledger.share(self._whole(payment, invoice, quote), left, taken_so_far(payment))
        reference = f"milestone:{milestone.id}"
        await self.repository.book(
            "escrow_release",
            ledger.release_postings(quote.mission_id, quote.member_id, part),
            external_ref=reference,
            memo=f"Escrow released for {invoice.reference}",
            mission_id=quote.mission_id,
            invoice_id=invoice.id,
        )
        if part.contribution_minor:
            await self.repository.book(
                "contribution",
                ledger.contribution_postings(quote.member_id, part.contribution_minor),
                external_ref=reference,
                memo=f"Contribution ({quote.contribution_rate_bp / 100 if quote.contribution_rate_bp else 0:.2f} %)"
                f" on {invoice.reference}",
                mission_id=quote.mission_id,
                invoice_id=invoice.id,
            )
        return True

    async def release_due(self, now: datetime | None = None) -> int:
        """Auto-release: milestones delivered N days ago (COOP_ESCROW_RELEASE_DAYS) that the client never
        accepted nor contested."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.settings.escrow_release_days)
        released = 0
        for milestone_id in await self.repository.due_for_release(cutoff):
            found = await self.repository.milestone(milestone_id, lock=True)
            if found is not None and await self.release(*found):
                released += 1
        return released
