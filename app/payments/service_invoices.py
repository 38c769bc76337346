"""Invoices and credit notes, numbered without gaps, and their Factur-X documents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Account, Invoice, Milestone, Quote
from app.payments import invoicing
from app.payments.service_base import InvoiceView, PaymentsServiceBase, is_admin


class InvoiceRules(PaymentsServiceBase):
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
