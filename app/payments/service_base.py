"""What every part of the payments service shares: the rates and limits in force, its errors, the
views it answers with, and the attempt made durable before Stripe is called."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from app.core.errors import AppError
from app.db.transaction import UnitOfWork
from app.models import Account, Invoice, Milestone, Payment, Quote, Role, WebhookEvent
from app.payments import ledger
from app.payments.gateway import Gateway
from app.payments.repository import PaymentsRepository
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


def taken_so_far(payment: Payment) -> ledger.Split:
    """What earlier refunds took from each part of the payment."""
    vat, contribution = payment.refunded_vat_minor, payment.refunded_contribution_minor
    return ledger.Split(vat, contribution, payment.refunded_minor - vat - contribution)


def event_created(event: WebhookEvent) -> datetime | None:
    created = event.payload.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None


class PaymentsServiceBase:
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
