"""HTTP surface of the payments feature under /api/v1/payments: quotes, milestones, invoices and credit
notes (JSON and Factur-X), payments and refunds, the Stripe webhook, and the ledger's readings."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import admin_only, admitted_member, signed_in
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.members.guards import admitted_member_or_admin
from app.models import Account, Milestone, Payment, PayoutLine, PayoutRun, Quote, Refund
from app.payments.payouts import BankAccountView, PayoutsService, RunView, mask
from app.payments.reports import ReportsService
from app.payments.schemas import (
    AccountBalanceOut,
    BankAccountInput,
    BankAccountOut,
    CreditNoteInput,
    InvoiceLineOut,
    InvoiceOut,
    LedgerLineOut,
    MemberLedgerOut,
    MilestoneOut,
    MonthOut,
    PaymentInput,
    PaymentOut,
    PayoutLineOut,
    PayoutOutcomeInput,
    PayoutRunInput,
    PayoutRunOut,
    PayoutRunSummaryOut,
    QuoteInput,
    QuoteOut,
    RefundInput,
    RefundOut,
    RevisionInput,
    SummaryOut,
    WebhookAck,
)
from app.payments.service import InvoiceView, PaymentsService, QuoteView

Id = FromPath[uuid.UUID]
WRITE = problems(400, 401, 403, 404, 409, 413)


def milestone_out(row: Milestone) -> MilestoneOut:
    return MilestoneOut(
        id=row.id,
        position=row.position,
        title=row.title,
        amount_ht_minor=row.amount_ht_minor,
        due_on=row.due_on,
        status=row.status,
        delivered_at=row.delivered_at,
        accepted_at=row.accepted_at,
        released_at=row.released_at,
    )


def quote_out(view: QuoteView) -> QuoteOut:
    quote: Quote = view.quote
    return QuoteOut(
        id=quote.id,
        engagement_id=quote.engagement_id,
        mission_id=quote.mission_id,
        member_id=quote.member_id,
        client_id=quote.client_id,
        version=quote.version,
        status=quote.status,
        pricing=quote.pricing,
        day_rate_minor=quote.day_rate_minor,
        days=quote.days,
        currency=quote.currency,
        total_ht_minor=quote.total_ht_minor,
        vat_rate_bp=quote.vat_rate_bp,
        vat_exemption=quote.vat_exemption,
        total_vat_minor=view.vat_minor,
        total_ttc_minor=quote.total_ht_minor + view.vat_minor,
        contribution_rate_bp=view.contribution_rate_bp,
        contribution_rate_frozen=view.frozen,
        contribution_minor=view.contribution_minor,
        member_share_minor=quote.total_ht_minor - view.contribution_minor,
        buyer=quote.buyer,
        revision_note=quote.revision_note,
        accepted_at=quote.accepted_at,
        created_at=quote.created_at,
        milestones=[milestone_out(m) for m in view.milestones],
    )


def invoice_out(view: InvoiceView) -> InvoiceOut:
    invoice, payment = view.invoice, view.payment
    return InvoiceOut(
        id=invoice.id,
        kind=invoice.kind,
        reference=invoice.reference,
        number=invoice.number,
        year=invoice.year,
        quote_id=invoice.quote_id,
        milestone_id=invoice.milestone_id,
        credited_invoice_id=invoice.credited_invoice_id,
        member_id=invoice.member_id,
        client_id=invoice.client_id,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        seller=invoice.seller,
        buyer=invoice.buyer,
        lines=[InvoiceLineOut(**line) for line in invoice.lines],
        total_ht_minor=invoice.total_ht_minor,
        total_vat_minor=invoice.total_vat_minor,
        total_ttc_minor=invoice.total_ttc_minor,
        contribution_rate_bp=invoice.contribution_rate_bp,
        mentions=invoice.mentions,
        payment_status=payment.status if payment else None,
        paid_minor=payment.amount_minor if payment and payment.status == "succeeded" else 0,
        refunded_minor=payment.refunded_minor if payment else 0,
    )


def payment_out(row: Payment) -> PaymentOut:
    return PaymentOut(
        id=row.id,
        invoice_id=row.invoice_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        method=row.method,
        status=row.status,
        payment_intent_id=row.payment_intent_id,
        client_secret=row.client_secret,
        refunded_minor=row.refunded_minor,
    )


def refund_out(row: Refund) -> RefundOut:
    return RefundOut(
        id=row.id,
        payment_id=row.payment_id,
        amount_minor=row.amount_minor,
        status=row.status,
        stripe_refund_id=row.stripe_refund_id,
    )


def member_ledger_out(balance: int, rows: list[Any], total: int, limit: int, offset: int) -> MemberLedgerOut:
    return MemberLedgerOut(
        balance_minor=balance,
        items=[
            LedgerLineOut(
                transaction_id=row.id,
                kind=row.kind,
                memo=row.memo,
                occurred_at=row.occurred_at,
                invoice_id=row.invoice_id,
                mission_id=row.mission_id,
                amount_minor=-int(row.amount_minor),  # shown from the member's side: positive is owed to them
            )
            for row in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


class PaymentsController(Controller):
    """Money routed through the cooperative: a member sees their own quotes, invoices and ledger lines, a
    client its own quotes and invoices, administrators everything; anyone else gets a 404."""

    path = "/api/v1/payments"
    tags = ["payments"]

    @post(
        "/engagements/{engagement_id:uuid}/quotes",
        guards=[signed_in],
        summary="Quote an engagement (the engaged member or an administrator); supersedes an unaccepted quote",
        description="Day rate times days or a fixed price, milestones adding up to it, VAT, the buyer details.",
        responses=WRITE,
    )
    async def propose_quote(
        self,
        engagement_id: Id,
        data: JSONBody[QuoteInput],
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> QuoteOut:
        return quote_out(await payments.propose(current_account, engagement_id, data))

    @get("/quotes", guards=[signed_in], summary="Your quotes (all of them for administrators)", responses=problems(401))
    async def list_quotes(
        self,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[QuoteOut]:
        rows, total = await payments.quotes(current_account, limit, offset)
        return Page(items=[quote_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/quotes/{quote_id:uuid}", guards=[signed_in], summary="One quote", responses=problems(401, 404))
    async def get_quote(
        self, quote_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> QuoteOut:
        return quote_out(await payments.quote(current_account, quote_id))

    @post(
        "/quotes/{quote_id:uuid}/accept",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Accept a quote (the client): its terms and the contribution rate in force are frozen",
        responses=problems(401, 403, 404, 409),
    )
    async def accept_quote(
        self, quote_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> QuoteOut:
        return quote_out(await payments.accept_quote(current_account, quote_id))

    @post(
        "/quotes/{quote_id:uuid}/revision",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Ask for a revision of a quote (the client)",
        responses=WRITE,
    )
    async def request_revision(
        self,
        quote_id: Id,
        data: JSONBody[RevisionInput],
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> QuoteOut:
        return quote_out(await payments.request_revision(current_account, quote_id, data.note))

    @post(
        "/milestones/{milestone_id:uuid}/deliver",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Declare a milestone delivered (the engaged member): the auto-release delay starts",
        responses=problems(401, 403, 404, 409),
    )
    async def deliver_milestone(
        self, milestone_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> MilestoneOut:
        milestone, _ = await payments.deliver(current_account, milestone_id)
        return milestone_out(milestone)

    @post(
        "/milestones/{milestone_id:uuid}/accept",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Accept a delivered milestone (the client): its escrow is released to the member once paid",
        responses=problems(401, 403, 404, 409),
    )
    async def accept_milestone(
        self, milestone_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> MilestoneOut:
        milestone, _ = await payments.accept_milestone(current_account, milestone_id)
        return milestone_out(milestone)

    @post(
        "/milestones/{milestone_id:uuid}/invoice",
        guards=[signed_in],
        summary="Issue the milestone's invoice (the engaged member or an administrator); numbered without gaps",
        responses=problems(401, 403, 404, 409),
    )
    async def issue_invoice(
        self, milestone_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> InvoiceOut:
        return invoice_out(await payments.issue_invoice(current_account, milestone_id))

    @get("/invoices", guards=[signed_in], summary="Your invoices and credit notes", responses=problems(401))
    async def list_invoices(
        self,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[InvoiceOut]:
        rows, total = await payments.invoices(current_account, limit, offset)
        return Page(items=[invoice_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get(
        "/invoices/{invoice_id:uuid}", guards=[signed_in], summary="One invoice, as JSON", responses=problems(401, 404)
    )
    async def get_invoice(
        self, invoice_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> InvoiceOut:
        return invoice_out(await payments.invoice(current_account, invoice_id))

    @get(
        "/invoices/{invoice_id:uuid}/facturx",
        guards=[signed_in],
        media_type="application/pdf",
        summary="One invoice as Factur-X: a PDF/A-3 with its CII XML (EN 16931) embedded",
        responses=problems(401, 404),
    )
    async def get_facturx(
        self, invoice_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> Response[bytes]:
        name, pdf = await payments.facturx(current_account, invoice_id)
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @post(
        "/invoices/{invoice_id:uuid}/credit-notes",
        guards=[signed_in],
        summary="Issue a credit note on an invoice, whole or partial (administrators)",
        responses=WRITE,
    )
    async def credit_note(
        self,
        invoice_id: Id,
        data: JSONBody[CreditNoteInput],
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> InvoiceOut:
        return invoice_out(await payments.credit_note(current_account, invoice_id, data.amount_ht_minor, data.reason))

    @post(
        "/invoices/{invoice_id:uuid}/payments",
        guards=[signed_in],
        summary="Pay an invoice (the client): a Stripe PaymentIntent, the same one on retries",
        description="Confirm it with Stripe.js and the `client_secret`; the ledger books it when Stripe says so.",
        responses=problems(400, 401, 403, 404, 409, 413, 502),
    )
    async def pay(
        self,
        invoice_id: Id,
        data: JSONBody[PaymentInput],
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> PaymentOut:
        return payment_out(await payments.pay(current_account, invoice_id, data.method))

    @post(
        "/invoices/{invoice_id:uuid}/refunds",
        guards=[signed_in],
        summary="Refund a paid invoice, whole or partly (administrators); reversed on the ledger",
        responses=problems(400, 401, 403, 404, 409, 413, 502),
    )
    async def refund(
        self,
        invoice_id: Id,
        data: JSONBody[RefundInput],
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> RefundOut:
        return refund_out(await payments.refund(current_account, invoice_id, data.amount_minor, data.reason))

    @post(
        "/stripe/webhook",
        status_code=HTTP_200_OK,
        opt={"exclude_from_auth": True},
        summary="Stripe's webhook: signature checked on the raw body, stored once by event id, processed later",
        description="Answers at once; a worker applies each event exactly once, whatever the order or repetitions.",
        responses=problems(400, 413),
    )
    async def stripe_webhook(
        self, request: Request[Any, Any, Any], payments: NamedDependency[PaymentsService]
    ) -> WebhookAck:
        new = await payments.receive(await request.body(), request.headers.get("stripe-signature"))
        kick = getattr(request.app.state, "payments_kick", None)
        if new and kick is not None:
            payments.unit_of_work.after_commit(kick)
        return WebhookAck(received=True, duplicate=not new)

    @get(
        "/ledger/summary",
        guards=[admitted_member_or_admin],
        summary="The cooperative's accounts, aggregated (balances and movements by month); members' lines merged",
        responses=problems(401, 403),
    )
    async def ledger_summary(self, reports: NamedDependency[ReportsService]) -> SummaryOut:
        balances, months = await reports.summary()
        return SummaryOut(
            balances=[AccountBalanceOut(account=a, kind=k, balance_minor=b) for a, k, b in balances],
            months=[MonthOut(month=m, kind=k, account=a, amount_minor=v) for m, k, a, v in months],
        )

    @get(
        "/ledger/mine",
        guards=[signed_in],
        summary="Your own account, line by line, and what the cooperative owes you",
        responses=problems(401),
    )
    async def my_ledger(
        self,
        current_account: NamedDependency[Account],
        reports: NamedDependency[ReportsService],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> MemberLedgerOut:
        return member_ledger_out(*await reports.member_lines(current_account, limit, offset), limit, offset)

    @get(
        "/ledger/members/{account_id:uuid}",
        guards=[signed_in],
        summary="A member's account, line by line (administrators; members see only their own)",
        responses=problems(401, 404),
    )
    async def member_ledger(
        self,
        account_id: Id,
        current_account: NamedDependency[Account],
        reports: NamedDependency[ReportsService],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> MemberLedgerOut:
        lines = await reports.member_lines(current_account, limit, offset, member_id=account_id)
        return member_ledger_out(*lines, limit, offset)

    @get(
        "/ledger/fec",
        guards=[admin_only],
        media_type="text/tab-separated-values",
        summary="The ledger as a FEC file (Fichier des Écritures Comptables) for the accountant (administrators)",
        responses=problems(401, 403),
    )
    async def fec(self, reports: NamedDependency[ReportsService]) -> Response[str]:
        return Response(
            content=await reports.fec(),
            media_type="text/tab-separated-values; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="FEC.txt"'},
        )


def bank_account_out(row: BankAccountView) -> BankAccountOut:
    return BankAccountOut(
        holder_name=row.holder_name,
        iban_masked=mask(row.iban_last4),
        country=row.country,
        bic=row.bic,
        updated_at=row.updated_at,
    )


def run_out(view: RunView) -> PayoutRunOut:
    run = view.run
    return PayoutRunOut(
        id=run.id,
        status=run.status,
        prepared_by_id=run.prepared_by_id,
        approved_by_id=run.approved_by_id,
        execution_date=run.execution_date,
        total_minor=run.total_minor,
        message_id=run.message_id,
        prepared_at=run.prepared_at,
        approved_at=run.approved_at,
        lines=[line_out(line) for line in view.lines],
    )


def run_summary_out(run: PayoutRun) -> PayoutRunSummaryOut:
    return PayoutRunSummaryOut(
        id=run.id,
        status=run.status,
        prepared_by_id=run.prepared_by_id,
        approved_by_id=run.approved_by_id,
        execution_date=run.execution_date,
        total_minor=run.total_minor,
        message_id=run.message_id,
        prepared_at=run.prepared_at,
        approved_at=run.approved_at,
    )


def line_out(line: PayoutLine) -> PayoutLineOut:
    return PayoutLineOut(
        id=line.id,
        end_to_end_id=line.id.hex,
        member_id=line.member_id,
        amount_minor=line.amount_minor,
        iban_masked=mask(line.iban_last4),
        status=line.status,
    )


class PayoutsController(Controller):
    """Members' IBANs (their own only, shown masked) and payout runs (administrators, four eyes)."""

    path = "/api/v1/payments"
    tags = ["payments"]

    @put(
        "/me/bank-account",
        guards=[admitted_member],
        summary="Record your IBAN for payouts (checked, encrypted at rest, never shown again in full)",
        responses=problems(400, 401, 403, 413, 422),
    )
    async def put_bank_account(
        self,
        data: JSONBody[BankAccountInput],
        current_account: NamedDependency[Account],
        payouts: NamedDependency[PayoutsService],
    ) -> BankAccountOut:
        return bank_account_out(await payouts.save_bank_account(current_account, data.holder_name, data.iban, data.bic))

    @get("/me/bank-account", guards=[signed_in], summary="Your IBAN on file, masked", responses=problems(401, 404))
    async def get_bank_account(
        self, current_account: NamedDependency[Account], payouts: NamedDependency[PayoutsService]
    ) -> BankAccountOut:
        return bank_account_out(await payouts.bank_account(current_account))

    @post(
        "/payout-runs",
        guards=[admin_only],
        summary="Prepare a payout run: every member owed money, with an IBAN on file (administrators)",
        responses=problems(400, 401, 403, 409, 413),
    )
    async def prepare_run(
        self,
        data: JSONBody[PayoutRunInput],
        current_account: NamedDependency[Account],
        payouts: NamedDependency[PayoutsService],
    ) -> PayoutRunOut:
        return run_out(await payouts.prepare(current_account, data.execution_date))

    @get(
        "/payout-runs",
        guards=[admin_only],
        summary="Payout runs, newest first, without their lines (administrators)",
        responses=problems(400, 401, 403),
    )
    async def list_runs(
        self, payouts: NamedDependency[PayoutsService], limit: Limit = 20, offset: Offset = 0
    ) -> Page[PayoutRunSummaryOut]:
        runs, total = await payouts.runs(limit, offset)
        return Page(items=[run_summary_out(run) for run in runs], total=total, limit=limit, offset=offset)

    @get(
        "/payout-runs/{run_id:uuid}",
        guards=[admin_only],
        summary="One payout run and its lines (administrators)",
        responses=problems(401, 403, 404),
    )
    async def get_run(self, run_id: Id, payouts: NamedDependency[PayoutsService]) -> PayoutRunOut:
        return run_out(await payouts.run(run_id))

    @post(
        "/payout-runs/{run_id:uuid}/approve",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Approve a run prepared by another administrator: its SEPA file is written and lines submitted",
        responses=problems(401, 403, 404, 409),
    )
    async def approve_run(
        self, run_id: Id, current_account: NamedDependency[Account], payouts: NamedDependency[PayoutsService]
    ) -> PayoutRunOut:
        return run_out(await payouts.approve(current_account, run_id))

    @get(
        "/payout-runs/{run_id:uuid}/sepa",
        guards=[admin_only],
        media_type="application/xml",
        summary="The run's SEPA credit transfer file (pain.001.001.09), once approved (administrators)",
        responses=problems(401, 403, 404, 409),
    )
    async def sepa_file(self, run_id: Id, payouts: NamedDependency[PayoutsService]) -> Response[str]:
        name, xml = await payouts.sepa_file(run_id)
        return Response(
            content=xml,
            media_type="application/xml",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @post(
        "/payout-lines/{line_id:uuid}/outcome",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Record what the bank did with a submitted line: executed, or returned (owed again)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def line_outcome(
        self, line_id: Id, data: JSONBody[PayoutOutcomeInput], payouts: NamedDependency[PayoutsService]
    ) -> PayoutLineOut:
        return line_out(await payouts.outcome(line_id, data.outcome))
