"""Payments pages: quotes and invoices for clients and members, one's own account and IBAN, the
cooperative's aggregated accounts, and the administrators' payout runs.

Every page calls the payments feature's services (`PaymentsService`, `ReportsService`,
`PayoutsService`) exactly as its API controllers do; forms are validated by the feature's schemas.
"""

from __future__ import annotations

import uuid
from itertools import groupby
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admin_only, admitted_member, signed_in
from app.accounts.service import AccountService
from app.core.errors import AppError, NotFound
from app.members.guards import admitted_member_or_admin
from app.members.service import MemberService
from app.models import Account, Role
from app.payments.payouts import PayoutsService, mask
from app.payments.reports import ReportsService
from app.payments.schemas import BankAccountInput, PaymentInput, PayoutOutcomeInput, PayoutRunInput, RevisionInput
from app.payments.service import PaymentsService
from app.web.forms import convert, form_data, optional_int
from app.web.i18n import N_
from app.web.labels import LABELS
from app.web.pages.refusals import refused
from app.web.rendering import FormRejected, field_errors, page, redirect

Id = FromPath[uuid.UUID]
PAGE_SIZE = 50
QUOTE_TEMPLATE = "payments/quote.html"
ACCOUNT_TEMPLATE = "payments/account.html"
RUNS_TEMPLATE = "payments/payout_runs.html"
INVOICE_TEMPLATE = "payments/invoice.html"
NO_STORE = {"cache-control": "no-store"}

# The payments feature's stored values, in the catalogue (registered here, beside the pages that show them).
LABELS.update(
    {
        "quote": {
            "proposed": N_("proposed"),
            "revision_requested": N_("revision requested"),
            "superseded": N_("superseded"),
            "accepted": N_("accepted"),
        },
        "milestone": {
            "pending": N_("to do"),
            "delivered": N_("delivered"),
            "accepted": N_("accepted"),
        },
        "payment": {
            "created": N_("awaiting confirmation"),
            "processing": N_("processing"),
            "succeeded": N_("paid"),
            "failed": N_("failed"),
            "canceled": N_("cancelled"),
        },
        "invoice_kind": {"invoice": N_("invoice"), "credit_note": N_("credit note")},
        "payout_run": {"prepared": N_("prepared"), "approved": N_("approved")},
        "payout_line": {
            "pending": N_("pending"),
            "submitted": N_("sent to the bank"),
            "executed": N_("executed"),
            "returned": N_("returned by the bank"),
        },
        "ledger_kind": {
            "client_payment": N_("client payment"),
            "escrow_release": N_("escrow released"),
            "contribution": N_("contribution to the cooperative"),
            "refund": N_("refund"),
            "dispute": N_("dispute"),
            "dispute_fee": N_("dispute fee"),
            "payout": N_("payout"),
            "payout_return": N_("payout returned"),
        },
        "ledger_account": {
            "treasury": N_("treasury (bank and Stripe)"),
            "escrow": N_("escrow (held for missions)"),
            "members": N_("owed to members"),
            "vat_payable": N_("VAT payable"),
            "contributions": N_("contributions"),
            "processor_fees": N_("processor fees"),
            "dispute_fees": N_("dispute fees"),
        },
    }
)
for _kind, _word in {
    "quote-not-acceptable": N_("This quote cannot be accepted or revised in its current state."),
    "invoice-not-payable": N_("This invoice cannot be paid now."),
    "payment-provider-error": N_("The payment provider could not be reached, or none is configured."),
    "invalid-iban": N_("This IBAN is not valid."),
    "four-eyes": N_("Another administrator must approve the run you prepared."),
}.items():
    LABELS["problem"].setdefault(_kind, _word)


def _offset(request: Request) -> int:
    return max(0, min(optional_int(request.query_params.get("offset")) or 0, 100_000))


def _rejected(template: str, error: AppError, context: dict[str, Any], status: int | None = None) -> FormRejected:
    summary, errors = field_errors(error)
    return FormRejected(template, context=context, errors=errors, summary=summary, status=status or error.status_code)


class PaymentPages(Controller):
    path = "/payments"
    include_in_schema = False

    # -- what a client or member is billed or quoted ------------------------------------------------------

    @get("/", guards=[signed_in])
    async def index(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> Template:
        quotes, quote_total = await payments.quotes(current_account, PAGE_SIZE, 0)
        invoices, invoice_total = await payments.invoices(current_account, PAGE_SIZE, 0)
        return page(
            request,
            "payments/index.html",
            quotes=quotes,
            quote_total=quote_total,
            invoices=invoices,
            invoice_total=invoice_total,
        )

    async def _quote_page(
        self, request: Request, account: Account, payments: PaymentsService, quote_id: uuid.UUID
    ) -> dict[str, Any]:
        view = await payments.quote(account, quote_id)
        # Each milestone's invoice, when issued (one per milestone), from the viewer's own invoices.
        invoices, _ = await payments.invoices(account, 200, 0)
        ids = {m.id for m in view.milestones}
        billed = {
            row.invoice.milestone_id: row.invoice
            for row in invoices
            if row.invoice.kind == "invoice" and row.invoice.milestone_id in ids
        }
        return {
            "view": view,
            "is_client": account.id == view.quote.client_id,
            "is_member": account.id == view.quote.member_id,
            "billed": billed,
        }

    @get("/quotes/{quote_id:uuid}", guards=[signed_in])
    async def quote(
        self,
        request: Request,
        quote_id: Id,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> Template:
        return page(request, QUOTE_TEMPLATE, **await self._quote_page(request, current_account, payments, quote_id))

    @post("/quotes/{quote_id:uuid}/accept", guards=[signed_in])
    async def accept_quote(
        self, quote_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> Redirect:
        await payments.accept_quote(current_account, quote_id)
        return redirect(f"/payments/quotes/{quote_id}", "done")

    @post("/quotes/{quote_id:uuid}/revision", guards=[signed_in])
    async def request_revision(
        self,
        request: Request,
        quote_id: Id,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        try:
            data = convert({"note": values.get("note", "").strip()}, RevisionInput, QUOTE_TEMPLATE, {})
            await payments.request_revision(current_account, quote_id, data.note)
        except (AppError, FormRejected) as error:
            raise await refused(
                db_session,
                QUOTE_TEMPLATE,
                error,
                lambda: self._quote_page(request, current_account, payments, quote_id),
                values=values,
            ) from error
        return redirect(f"/payments/quotes/{quote_id}", "done")

    @post("/milestones/{milestone_id:uuid}/accept", guards=[signed_in])
    async def accept_milestone(
        self, milestone_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> Redirect:
        _, quote = await payments.accept_milestone(current_account, milestone_id)
        return redirect(f"/payments/quotes/{quote.id}", "done")

    @post("/milestones/{milestone_id:uuid}/deliver", guards=[signed_in])
    async def deliver_milestone(
        self, milestone_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> Redirect:
        _, quote = await payments.deliver(current_account, milestone_id)
        return redirect(f"/payments/quotes/{quote.id}", "done")

    @post("/milestones/{milestone_id:uuid}/invoice", guards=[signed_in])
    async def issue_invoice(
        self, milestone_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> Redirect:
        view = await payments.issue_invoice(current_account, milestone_id)
        return redirect(f"/payments/invoices/{view.invoice.id}", "done")

    @get("/invoices/{invoice_id:uuid}", guards=[signed_in])
    async def invoice(
        self,
        request: Request,
        invoice_id: Id,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
    ) -> Template:
        view = await payments.invoice(current_account, invoice_id)
        return page(request, INVOICE_TEMPLATE, view=view, is_client=current_account.id == view.invoice.client_id)

    @get("/invoices/{invoice_id:uuid}/facturx", guards=[signed_in])
    async def facturx(
        self, invoice_id: Id, current_account: NamedDependency[Account], payments: NamedDependency[PaymentsService]
    ) -> Response[bytes]:
        name, pdf = await payments.facturx(current_account, invoice_id)
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @post("/invoices/{invoice_id:uuid}/pay", guards=[signed_in])
    async def pay(
        self,
        request: Request,
        invoice_id: Id,
        current_account: NamedDependency[Account],
        payments: NamedDependency[PaymentsService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        values, _ = await form_data(request)

        async def invoice_page() -> dict[str, Any]:
            view = await payments.invoice(current_account, invoice_id)
            return {"view": view, "is_client": current_account.id == view.invoice.client_id}

        try:
            data = convert({"method": values.get("method", "card")}, PaymentInput, INVOICE_TEMPLATE, {})
            payment = await payments.pay(current_account, invoice_id, data.method)
        except (AppError, FormRejected) as error:
            raise await refused(db_session, INVOICE_TEMPLATE, error, invoice_page, values=values) from error
        # Shown, not redirected to: the client secret is for this answer only (never in a URL).
        response = page(request, "payments/payment.html", payment=payment, **await invoice_page())
        response.headers.update(NO_STORE)
        return response

    # -- a member's own account ------------------------------------------------------------------------------

    async def _account_context(
        self, request: Request, account: Account, reports: ReportsService, payouts: PayoutsService
    ) -> dict[str, Any]:
        offset = _offset(request)
        balance, rows, total = await reports.member_lines(account, PAGE_SIZE, offset)
        bank = None
        if account.role == Role.MEMBER:
            try:
                bank = await payouts.bank_account(account)
            except NotFound:
                bank = None
        return {
            "balance": balance,
            "rows": rows,
            "total": total,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "bank": bank,
            "iban_masked": mask(bank.iban_last4) if bank else None,
        }

    @get("/account", guards=[signed_in])
    async def account(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        reports: NamedDependency[ReportsService],
        payouts: NamedDependency[PayoutsService],
    ) -> Template:
        context = await self._account_context(request, current_account, reports, payouts)
        return page(request, ACCOUNT_TEMPLATE, **context)

    @post("/account/bank-account", guards=[admitted_member])
    async def save_bank_account(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        reports: NamedDependency[ReportsService],
        payouts: NamedDependency[PayoutsService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        body = {
            "holder_name": values.get("holder_name", "").strip(),
            "iban": values.get("iban", "").strip(),
            "bic": values.get("bic", "").strip().upper().replace(" ", "") or None,
        }
        try:
            data = convert(body, BankAccountInput, ACCOUNT_TEMPLATE, {})
            await payouts.save_bank_account(current_account, data.holder_name, data.iban, data.bic)
        except (AppError, FormRejected) as error:
            rejected = await refused(
                db_session,
                ACCOUNT_TEMPLATE,
                error,
                lambda: self._account_context(request, current_account, reports, payouts),
                # The IBAN typed is never written back into the page.
                values={"holder_name": values.get("holder_name", ""), "bic": values.get("bic", "")},
            )
            if not rejected.errors or "detail" in rejected.errors:
                rejected.errors = {"iban": rejected.errors.get("detail") or rejected.summary}
            raise rejected from error
        return redirect("/payments/account", "saved")

    # -- the cooperative's accounts, for every member ---------------------------------------------------------

    @get("/cooperative", guards=[admitted_member_or_admin])
    async def cooperative(self, request: Request, reports: NamedDependency[ReportsService]) -> Template:
        balances, movements = await reports.summary()
        months = [(month, list(rows)) for month, rows in groupby(sorted(movements, reverse=True), key=lambda r: r[0])]
        return page(request, "payments/cooperative.html", balances=balances, months=months)

    # -- payout runs (administrators, four eyes) --------------------------------------------------------------

    async def _runs_context(
        self, request: Request, admin: Account, payouts: PayoutsService, accounts: AccountService
    ) -> dict[str, Any]:
        offset = _offset(request)
        runs, total = await payouts.runs(PAGE_SIZE, offset)
        names: dict[uuid.UUID, str] = {}
        shown = []
        for run in runs:
            prepared_by = await _admin_name(accounts, admin, run.prepared_by_id, names)
            approved_by = await _admin_name(accounts, admin, run.approved_by_id, names)
            shown.append((run, prepared_by, approved_by))
        return {"runs": shown, "total": total, "offset": offset, "page_size": PAGE_SIZE, "me": admin}

    @get("/payout-runs", guards=[admin_only])
    async def payout_runs(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        payouts: NamedDependency[PayoutsService],
        accounts: NamedDependency[AccountService],
    ) -> Template:
        return page(request, RUNS_TEMPLATE, **await self._runs_context(request, current_account, payouts, accounts))

    @post("/payout-runs", guards=[admin_only])
    async def prepare_run(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        payouts: NamedDependency[PayoutsService],
        accounts: NamedDependency[AccountService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, _ = await form_data(request)
        body = {"execution_date": values.get("execution_date", "").strip() or None}
        try:
            data = convert(body, PayoutRunInput, RUNS_TEMPLATE, {"values": values})
            view = await payouts.prepare(current_account, data.execution_date)
        except (AppError, FormRejected) as error:
            raise await refused(
                db_session,
                RUNS_TEMPLATE,
                error,
                lambda: self._runs_context(request, current_account, payouts, accounts),
                values=values,
            ) from error
        return redirect(f"/payments/payout-runs/{view.run.id}", "done")

    @get("/payout-runs/{run_id:uuid}", guards=[admin_only])
    async def payout_run(
        self,
        request: Request,
        run_id: Id,
        current_account: NamedDependency[Account],
        payouts: NamedDependency[PayoutsService],
        accounts: NamedDependency[AccountService],
        members: NamedDependency[MemberService],
    ) -> Template:
        view = await payouts.run(run_id)
        lines = [
            (line, mask(line.iban_last4), await _member_name(members, current_account, line.member_id))
            for line in view.lines
        ]
        names: dict[uuid.UUID, str] = {}
        return page(
            request,
            "payments/payout_run.html",
            view=view,
            lines=lines,
            me=current_account,
            prepared_by=await _admin_name(accounts, current_account, view.run.prepared_by_id, names),
            approved_by=await _admin_name(accounts, current_account, view.run.approved_by_id, names),
        )

    @post("/payout-runs/{run_id:uuid}/approve", guards=[admin_only])
    async def approve_run(
        self, run_id: Id, current_account: NamedDependency[Account], payouts: NamedDependency[PayoutsService]
    ) -> Redirect:
        await payouts.approve(current_account, run_id)
        return redirect(f"/payments/payout-runs/{run_id}", "done")

    @get("/payout-runs/{run_id:uuid}/sepa", guards=[admin_only])
    async def sepa_file(self, run_id: Id, payouts: NamedDependency[PayoutsService]) -> Response[str]:
        name, xml = await payouts.sepa_file(run_id)
        return Response(
            content=xml,
            media_type="application/xml",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @post("/payout-lines/{line_id:uuid}/outcome", guards=[admin_only])
    async def line_outcome(self, request: Request, line_id: Id, payouts: NamedDependency[PayoutsService]) -> Redirect:
        values, _ = await form_data(request)
        data = convert({"outcome": values.get("outcome", "")}, PayoutOutcomeInput, RUNS_TEMPLATE, {"values": {}})
        line = await payouts.outcome(line_id, data.outcome)
        return redirect(f"/payments/payout-runs/{line.run_id}", "done")


async def _admin_name(
    accounts: AccountService, viewer: Account, account_id: uuid.UUID | None, known: dict[uuid.UUID, str]
) -> str | None:
    """The account name of the administrator who prepared or approved a run (administrators see accounts)."""
    if account_id is None:
        return None
    if account_id not in known:
        try:
            known[account_id] = (await accounts.get_visible_account(viewer, account_id)).display_name
        except NotFound:
            known[account_id] = ""
    return known[account_id] or None


async def _member_name(members: MemberService, viewer: Account, account_id: uuid.UUID) -> str | None:
    """The member's name as their profile shows it to this viewer; nothing without a visible profile."""
    try:
        return (await members.visible_profile(viewer, account_id)).profile.display_name
    except NotFound:
        return None
