"""Request and response bodies of the payments feature (amounts are integer minor units, cents)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from app.core.schemas import MULTI_LINE, SINGLE_LINE, Input, ShortText

Amount = Annotated[int, msgspec.Meta(ge=1, le=100_000_000_00)]
Rate = Annotated[int, msgspec.Meta(ge=0, le=10_000, description="Basis points: 2000 is 20 %")]
LegalId = Annotated[str, msgspec.Meta(min_length=9, max_length=20, pattern=r"^[0-9 ]+$")]
VatNumber = Annotated[str, msgspec.Meta(min_length=4, max_length=20, pattern=r"^[A-Za-z]{2}[0-9A-Za-z+* .]+$")]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=MULTI_LINE)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=MULTI_LINE)]


class BuyerInput(Input, kw_only=True):
    """The client's legal details printed on invoices; SIREN/SIRET and VAT numbers are checked."""

    name: ShortText
    address: Address
    registration: LegalId | None = None
    vat_number: VatNumber | None = None


class MilestoneInput(Input, kw_only=True):
    title: ShortText
    amount_ht_minor: Amount
    due_on: date


class QuoteInput(Input, kw_only=True):
    pricing: Literal["day_rate", "fixed"] = "day_rate"
    day_rate_minor: Amount | None = None
    days: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    fixed_price_minor: Amount | None = None
    vat_rate_bp: Rate = 2000
    vat_exemption: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=SINGLE_LINE)] | None = None
    milestones: Annotated[list[MilestoneInput], msgspec.Meta(max_length=20)]
    buyer: BuyerInput


class RevisionInput(Input, kw_only=True):
    note: Note


class CreditNoteInput(Input, kw_only=True):
    amount_ht_minor: Amount | None = None  # None: the whole invoice
    reason: ShortText


class RefundInput(Input, kw_only=True):
    amount_minor: Amount | None = None  # None: what is left of the payment
    reason: Annotated[str, msgspec.Meta(max_length=300, pattern=SINGLE_LINE)] = ""


class PaymentInput(Input, kw_only=True):
    method: Literal["card", "sepa_debit", "customer_balance"] = "card"


class MilestoneOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    position: int
    title: str
    amount_ht_minor: int
    due_on: date
    status: str
    delivered_at: datetime | None
    accepted_at: datetime | None
    released_at: datetime | None


class QuoteOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    engagement_id: uuid.UUID
    mission_id: uuid.UUID
    member_id: uuid.UUID
    client_id: uuid.UUID
    version: int
    status: str
    pricing: str
    day_rate_minor: int | None
    days: int | None
    currency: str
    total_ht_minor: int
    vat_rate_bp: int
    vat_exemption: str | None
    total_vat_minor: int
    total_ttc_minor: int
    contribution_rate_bp: int
    contribution_rate_frozen: bool
    contribution_minor: int
    member_share_minor: int
    buyer: dict[str, Any]
    revision_note: str | None
    accepted_at: datetime | None
    created_at: datetime
    milestones: list[MilestoneOut]


class InvoiceLineOut(msgspec.Struct, kw_only=True):
    description: str
    quantity: int
    unit_price_minor: int
    vat_rate_bp: int
    total_ht_minor: int
    vat_minor: int


class InvoiceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    reference: str
    number: int
    year: int
    quote_id: uuid.UUID
    milestone_id: uuid.UUID
    credited_invoice_id: uuid.UUID | None
    member_id: uuid.UUID
    client_id: uuid.UUID
    issue_date: date
    due_date: date
    currency: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    lines: list[InvoiceLineOut]
    total_ht_minor: int
    total_vat_minor: int
    total_ttc_minor: int
    contribution_rate_bp: int
    mentions: list[str]
    payment_status: str | None
    paid_minor: int
    refunded_minor: int


class PaymentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    invoice_id: uuid.UUID
    amount_minor: int
    currency: str
    method: str
    status: str
    payment_intent_id: str | None
    client_secret: str | None
    refunded_minor: int


class RefundOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    status: str
    stripe_refund_id: str | None


class WebhookAck(msgspec.Struct, kw_only=True):
    received: bool
    duplicate: bool


class AccountBalanceOut(msgspec.Struct, kw_only=True):
    account: str
    kind: str
    balance_minor: int


class MonthOut(msgspec.Struct, kw_only=True):
    month: str
    kind: str
    account: str
    amount_minor: int


class SummaryOut(msgspec.Struct, kw_only=True):
    """The cooperative's aggregated accounts: member accounts are merged, no one's line is shown."""

    balances: list[AccountBalanceOut]
    months: list[MonthOut]


class LedgerLineOut(msgspec.Struct, kw_only=True):
    transaction_id: uuid.UUID
    kind: str
    memo: str
    occurred_at: datetime
    invoice_id: uuid.UUID | None
    mission_id: uuid.UUID | None
    amount_minor: int  # positive: owed to you grew; negative: paid out or taken back


class MemberLedgerOut(msgspec.Struct, kw_only=True):
    balance_minor: int  # what the cooperative owes you (negative: you owe it, netted on later payouts)
    items: list[LedgerLineOut]
    total: int
    limit: int
    offset: int


class BankAccountInput(Input, kw_only=True):
    holder_name: Annotated[str, msgspec.Meta(min_length=1, max_length=70, pattern=SINGLE_LINE)]
    iban: Annotated[str, msgspec.Meta(min_length=5, max_length=42, pattern=SINGLE_LINE)]  # checked by schwifty
    bic: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")] | None = None


class BankAccountOut(msgspec.Struct, kw_only=True):
    holder_name: str
    iban_masked: str  # the IBAN itself is never shown again, even to its owner
    country: str
    bic: str | None
    updated_at: datetime


class PayoutRunInput(Input, kw_only=True):
    execution_date: date | None = None


class PayoutOutcomeInput(Input, kw_only=True):
    outcome: Literal["executed", "returned"]


class PayoutLineOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    end_to_end_id: str
    member_id: uuid.UUID
    amount_minor: int
    iban_masked: str
    status: str


class PayoutRunOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: str
    prepared_by_id: uuid.UUID
    approved_by_id: uuid.UUID | None
    execution_date: date
    total_minor: int
    message_id: str
    prepared_at: datetime
    approved_at: datetime | None
    lines: list[PayoutLineOut]


class PayoutRunSummaryOut(msgspec.Struct, kw_only=True):
    """A run in the list: what one reads to choose it (its lines are in `GET /payout-runs/{id}`)."""

    id: uuid.UUID
    status: str
    prepared_by_id: uuid.UUID
    approved_by_id: uuid.UUID | None
    execution_date: date
    total_minor: int
    message_id: str
    prepared_at: datetime
    approved_at: datetime | None
