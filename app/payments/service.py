"""Rules of the payments feature: quotes on engagements, milestones, invoices and credit notes, Stripe
collection and refunds, the webhook inbox's processing, escrow release and what members may read.

Knows nothing of HTTP. Never commits, with one documented exception: a payment or refund attempt is
made durable before Stripe is called (`_durable`), so a retry finds it and reuses its idempotency key.
Reads missions and the voted contribution rate through its own repository's queries; imports no
other feature's internals. Stripe is reached only through the `Gateway` protocol.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from app.core.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from app.db.transaction import UnitOfWork
from app.models import Account, Invoice, Milestone, Payment, Quote, Refund, Role, WebhookEvent
from app.payments import invoicing, ledger
from app.payments.gateway import Fee, Gateway, PaymentProviderError
from app.payments.repository import PaymentsRepository
from app.payments.schemas import BuyerInput, QuoteInput
from app.settings import Settings

log = structlog.get_logger(__name__)

# Until the members vote a contribution, this one (in basis points) is in force.
DEFAULT_CONTRIBUTION_BP = 1000
DISPUTE_FEE_MINOR = 1500
# Our own follow-up work in the webhook inbox: reading the processor fee of a payment once it is booked
# (a network call to Stripe, retried by the inbox like any event, so a Stripe outage never holds up or
# undoes the booking of the payment itself).
FEE_EVENT_TYPE = "coop.processor_fee"
STATUS_RANK = {"created": 0, "processing": 1, "failed": 2, "canceled": 2, "succeeded": 3}


class QuoteNotAcceptable(AppError):
    status_code = 409
    slug = "quote-not-acceptable"
    title = "The quote cannot be accepted or revised in its current state"


class InvoiceNotPayable(AppError):
    status_code = 409
    slug = "invoice-not-payable"
    title = "This invoice cannot be paid or refunded now"


def is_admin(account: Account | None) -> bool:
    return account is not None and account.role == Role.ADMIN


@dataclass(frozen=True)
class QuoteView:
    quote: Quote
    milestones: Sequence[Milestone]
    contribution_rate_bp: int
    frozen: bool

    @property
    def vat_minor(self) -> int:
        return ledger.vat_of(self.quote.total_ht_minor, self.quote.vat_rate_bp)

    @property
    def contribution_minor(self) -> int:
        return ledger.contribution_of(self.quote.total_ht_minor, self.contribution_rate_bp)


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    payment: Payment | None


class PaymentsService:
    def __init__(self, unit_of_work: UnitOfWork, settings: Settings, gateway: Gateway | None = None) -> None:
        self.unit_of_work = unit_of_work
        self.repository = PaymentsRepository(unit_of_work.session)
        self.settings = settings
        self.gateway = gateway

    async def _durable(self) -> None:
        """Commit what is written so far: the attempt must survive whatever happens once Stripe is called."""
        await self.unit_of_work.session.commit()

    async def contribution_rate_in_force(self) -> int:
        rate = await self.repository.contribution_rate_bp()
        return DEFAULT_CONTRIBUTION_BP if rate is None else rate

    # -- quotes --------------------------------------------------------------------------------------

    async def _quote_view(self, quote: Quote) -> QuoteView:
        frozen = quote.contribution_rate_bp is not None
        rate = quote.contribution_rate_bp if frozen else await self.contribution_rate_in_force()
        return QuoteView(quote, await self.repository.milestones(quote.id), int(rate or 0), frozen)

    async def _visible_quote(self, viewer: Account, quote_id: uuid.UUID, *, lock: bool = False) -> Quote:
        quote = await self.repository.quote(quote_id, lock=lock)
        if quote is None or not (is_admin(viewer) or viewer.id in (quote.member_id, quote.client_id)):
            raise NotFound()
        return quote

    @staticmethod
    def _buyer(data: BuyerInput) -> dict[str, Any]:
        try:
            return invoicing.party(data.name, data.address, data.registration, data.vat_number, prefix="buyer")
        except invoicing.LegalIdError as error:
            raise InvalidInput.field(error.field, str(error)) from None

    async def propose(self, viewer: Account, engagement_id: uuid.UUID, data: QuoteInput) -> QuoteView:
        """The engaged member (or an administrator) quotes; a new version supersedes an unaccepted one."""
        found = await self.repository.engagement(engagement_id)
        if found is None:
            raise NotFound()
        engagement, mission = found
        if not is_admin(viewer) and viewer.id != engagement.member_id:
            if viewer.id in (mission.owner_id, mission.referrer_id):
                raise Forbidden("The engaged member or an administrator writes the quote; the client accepts it.")
            raise NotFound()
        if mission.status == "cancelled":
            raise Conflict("The mission is cancelled.")
        if data.pricing == "day_rate":
            rate = data.day_rate_minor or engagement.day_rate_minor
            days = data.days or engagement.days
            if not days:
                raise InvalidInput.field("days", "A day-rate quote says for how many days.")
            if rate <= 0:
                raise InvalidInput.field("day_rate_minor", "A day-rate quote needs a day rate.")
            total = rate * days
        else:
            if data.fixed_price_minor is None:
                raise InvalidInput.field("fixed_price_minor", "A fixed-price quote states its price.")
            rate, days, total = None, None, data.fixed_price_minor
        if not data.milestones:
            raise InvalidInput.field("milestones", "A quote has at least one milestone.")
        if sum(m.amount_ht_minor for m in data.milestones) != total:
            raise InvalidInput.field("milestones", f"The milestones must add up to the total before tax ({total}).")
        if data.vat_rate_bp == 0 and not data.vat_exemption:
            raise InvalidInput.field(
                "vat_exemption", "Without VAT, the invoice states the exemption (e.g. art. 293 B)."
            )
        buyer = self._buyer(data.buyer)
        previous = await self.repository.live_quote(engagement.id)
        if previous is not None:
            if previous.status == "accepted":
                raise QuoteNotAcceptable("The client accepted a quote: its terms are frozen.")
            previous.status = "superseded"
            await self.repository.session.flush()
        quote = Quote(
            engagement_id=engagement.id,
            mission_id=mission.id,
            member_id=engagement.member_id,
            client_id=mission.owner_id,
            version=await self.repository.quote_count(engagement.id) + 1,
            pricing=data.pricing,
            day_rate_minor=rate,
            days=days,
            total_ht_minor=total,
            currency=mission.currency,
            vat_rate_bp=data.vat_rate_bp,
            vat_exemption=data.vat_exemption,
            buyer=buyer,
        )
        await self.repository.add(quote)
        for position, item in enumerate(data.milestones):
            await self.repository.add(
                Milestone(
                    quote_id=quote.id,
                    position=position,
                    title=item.title,
                    amount_ht_minor=item.amount_ht_minor,
                    due_on=item.due_on,
                )
            )
        return await self._quote_view(quote)

    async def quote(self, viewer: Account, quote_id: uuid.UUID) -> QuoteView:
        return await self._quote_view(await self._visible_quote(viewer, quote_id))

    async def quotes(self, viewer: Account, limit: int, offset: int) -> tuple[list[QuoteView], int]:
        rows, total = await self.repository.quotes_for(None if is_admin(viewer) else viewer.id, limit, offset)
        return [await self._quote_view(row) for row in rows], total

    async def _client_decides(self, viewer: Account, quote_id: uuid.UUID) -> Quote:
        quote = await self._visible_quote(viewer, quote_id, lock=True)
        if viewer.id != quote.client_id:
            raise Forbidden("Only the client accepts a quote or asks for a revision.")
        if quote.status != "proposed":
            raise QuoteNotAcceptable(f"The quote is {quote.status}.")
        return quote

    async def accept_quote(self, viewer: Account, quote_id: uuid.UUID) -> QuoteView:
        """Acceptance freezes the terms and the contribution rate in force now."""
        quote = await self._client_decides(viewer, quote_id)
        rate = await self.contribution_rate_in_force()  # read before the row changes (autoflush)
        quote.status, quote.contribution_rate_bp, quote.accepted_at = "accepted", rate, datetime.now(UTC)
        return await self._quote_view(quote)

    async def request_revision(self, viewer: Account, quote_id: uuid.UUID, note: str) -> QuoteView:
        quote = await self._client_decides(viewer, quote_id)
        quote.status, quote.revision_note = "revision_requested", note
        return await self._quote_view(quote)

    # -- milestones ----------------------------------------------------------------------------------

    async def _milestone(self, viewer: Account, milestone_id: uuid.UUID) -> tuple[Milestone, Quote]:
        found = await self.repository.milestone(milestone_id, lock=True)
        if found is None:
            raise NotFound()
        milestone, quote = found
        if not (is_admin(viewer) or viewer.id in (quote.member_id, quote.client_id)):
            raise NotFound()
        if quote.status != "accepted":
            raise QuoteNotAcceptable("Milestones move once the client has accepted the quote.")
        return milestone, quote

    async def deliver(self, viewer: Account, milestone_id: uuid.UUID) -> tuple[Milestone, Quote]:
        milestone, quote = await self._milestone(viewer, milestone_id)
        if viewer.id != quote.member_id and not is_admin(viewer):
            raise Forbidden("The engaged member declares a milestone delivered.")
        if milestone.status != "pending":
            raise Conflict(f"The milestone is already {milestone.status}.")
        milestone.status, milestone.delivered_at = "delivered", datetime.now(UTC)
        return milestone, quote

    async def accept_milestone(self, viewer: Account, milestone_id: uuid.UUID) -> tuple[Milestone, Quote]:
        """The client accepts the work: the money held in escrow for it is released (once paid)."""
        milestone, quote = await self._milestone(viewer, milestone_id)
        if viewer.id != quote.client_id:
            raise Forbidden("Only the client accepts a delivered milestone.")
        if milestone.status != "delivered":
            raise Conflict(f"Only a delivered milestone can be accepted; it is {milestone.status}.")
        milestone.status, milestone.accepted_at = "accepted", datetime.now(UTC)
        await self.release(milestone, quote)
        return milestone, quote

    # -- invoices ------------------------------------------------------------------------------------

    def _seller(self) -> dict[str, Any]:
        s = self.settings
        return invoicing.party(s.coop_legal_name, s.coop_address, s.coop_siret, s.coop_vat_number, prefix="seller")

    async def _issue(
        self,
        *,
        kind: str,
        quote: Quote,
        milestone: Milestone,
        lines: list[invoicing.Line],
        credited: Invoice | None = None,
    ) -> Invoice:
        today = datetime.now(UTC).date()
        series = invoicing.CREDIT_NOTE_SERIES if kind == "credit_note" else invoicing.INVOICE_SERIES
        number = await self.repository.next_number(series, today.year)
        due = today + timedelta(days=self.settings.payment_terms_days)
        totals = invoicing.totals(lines)
        invoice = Invoice(
            kind=kind,
            series=series,
            year=today.year,
            number=number,
            reference=invoicing.reference(series, today.year, number),
            quote_id=quote.id,
            milestone_id=milestone.id,
            credited_invoice_id=credited.id if credited else None,
            mission_id=quote.mission_id,
            member_id=quote.member_id,
            client_id=quote.client_id,
            issue_date=today,
            due_date=due,
            currency=quote.currency,
            seller=self._seller(),
            buyer=quote.buyer,
            lines=[line.as_json() for line in lines],
            total_ht_minor=totals.ht_minor,
            total_vat_minor=totals.vat_minor,
            total_ttc_minor=totals.ttc_minor,
            contribution_rate_bp=int(quote.contribution_rate_bp or 0),
            mentions=invoicing.mentions(
                vat_exemption=quote.vat_exemption,
                contribution_rate_bp=int(quote.contribution_rate_bp or 0),
                due_date=due,
            ),
        )
        await self.repository.add(invoice)
        return invoice

    async def issue_invoice(self, viewer: Account, milestone_id: uuid.UUID) -> InvoiceView:
        milestone, quote = await self._milestone(viewer, milestone_id)
        if viewer.id != quote.member_id and not is_admin(viewer):
            raise Forbidden("The cooperative issues invoices at the engaged member's or an administrator's request.")
        if await self.repository.invoice_for_milestone(milestone.id) is not None:
            raise Conflict("This milestone is already invoiced; corrections are credit notes.")
        mission = await self.repository.mission(quote.mission_id)
        title = mission.title if mission else "Mission"
        line = invoicing.Line(f"{title} — {milestone.title}"[:300], 1, milestone.amount_ht_minor, quote.vat_rate_bp)
        return InvoiceView(await self._issue(kind="invoice", quote=quote, milestone=milestone, lines=[line]), None)

    async def _visible_invoice(self, viewer: Account, invoice_id: uuid.UUID) -> Invoice:
        invoice = await self.repository.invoice(invoice_id)
        if invoice is None or not (is_admin(viewer) or viewer.id in (invoice.member_id, invoice.client_id)):
            raise NotFound()
        return invoice

    async def invoice(self, viewer: Account, invoice_id: uuid.UUID) -> InvoiceView:
        invoice = await self._visible_invoice(viewer, invoice_id)
        return InvoiceView(invoice, await self.repository.live_payment(invoice.id))

    async def invoices(self, viewer: Account, limit: int, offset: int) -> tuple[list[InvoiceView], int]:
        rows, total = await self.repository.invoices_for(None if is_admin(viewer) else viewer.id, limit, offset)
        return [InvoiceView(row, await self.repository.live_payment(row.id)) for row in rows], total

    async def credit_note(
        self, viewer: Account, invoice_id: uuid.UUID, amount_ht_minor: int | None, reason: str
    ) -> InvoiceView:
        if not is_admin(viewer):
            raise Forbidden("Credit notes are issued by administrators.")
        invoice = await self._visible_invoice(viewer, invoice_id)
        if invoice.kind != "invoice":
            raise Conflict("A credit note corrects an invoice, not another credit note.")
        credited_ttc = await self.repository.credited_total(invoice.id)
        vat_rate = invoice.lines[0]["vat_rate_bp"]
        left_ht = invoice.total_ht_minor - round(credited_ttc * invoice.total_ht_minor / invoice.total_ttc_minor)
        amount = left_ht if amount_ht_minor is None else amount_ht_minor
        if amount <= 0 or amount > left_ht:
            raise InvalidInput.field("amount_ht_minor", f"At most {left_ht} before tax is left to credit.")
        found = await self.repository.milestone(invoice.milestone_id)
        assert found is not None
        milestone, quote = found
        line = invoicing.Line(f"Avoir sur la facture {invoice.reference} : {reason}"[:300], 1, amount, vat_rate)
        note = await self._issue(kind="credit_note", quote=quote, milestone=milestone, lines=[line], credited=invoice)
        return InvoiceView(note, None)

    async def facturx(self, viewer: Account, invoice_id: uuid.UUID) -> tuple[str, bytes]:
        # Imported here: fpdf, factur-x and lxml hold ~64 MiB per process, for a rarely used download.
        from app.payments import facturx

        invoice = await self._visible_invoice(viewer, invoice_id)
        credited = await self.repository.invoice(invoice.credited_invoice_id) if invoice.credited_invoice_id else None
        quote = await self.repository.quote(invoice.quote_id)
        pdf = facturx.render(
            invoice,
            credited_reference=credited.reference if credited else None,
            exemption=quote.vat_exemption if quote else None,
        )
        return f"{invoice.reference}.pdf", pdf

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
        part = ledger.share(self._whole(payment, invoice, quote), amount, _taken(payment))
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
        back = ledger.share(_taken(payment), amount)
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
        part = ledger.share(self._whole(payment, invoice, quote), left, _taken(payment))
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
                await self.book_payment(payment, _created(event))
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


def _taken(payment: Payment) -> ledger.Split:
    """What earlier refunds took from each part of the payment."""
    vat, contribution = payment.refunded_vat_minor, payment.refunded_contribution_minor
    return ledger.Split(vat, contribution, payment.refunded_minor - vat - contribution)


def _created(event: WebhookEvent) -> datetime | None:
    created = event.payload.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None
