"""Tables of the payments feature: the double-entry ledger, quotes and milestones, invoices and their
numbering counters, payment attempts, refunds and the Stripe webhook inbox.

The ledger and issued invoices are append-only: the migration installs triggers that refuse UPDATE and
DELETE on them, and a deferred constraint trigger that refuses a transaction whose entries do not sum
to zero. Money is always an integer number of minor units (cents).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class AccountKind(StrEnum):
    ASSET = "asset"  # debit-normal: the treasury (Stripe balance and bank, seen as one)
    LIABILITY = "liability"  # credit-normal: escrow per mission, what is owed to each member, VAT payable
    REVENUE = "revenue"  # credit-normal: the cooperative's contribution
    EXPENSE = "expense"  # debit-normal: processor and dispute fees


class TransactionKind(StrEnum):
    CLIENT_PAYMENT = "client_payment"
    PROCESSOR_FEE = "processor_fee"
    ESCROW_RELEASE = "escrow_release"
    CONTRIBUTION = "contribution"
    PAYOUT = "payout"
    PAYOUT_RETURN = "payout_return"
    REFUND = "refund"
    DISPUTE = "dispute"
    DISPUTE_FEE = "dispute_fee"


class QuoteStatus(StrEnum):
    PROPOSED = "proposed"
    REVISION_REQUESTED = "revision_requested"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"


class MilestoneStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"


class PaymentStatus(StrEnum):
    CREATED = "created"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class LedgerAccount(SQLModel, table=True):
    """An account of the journal; its balance is never stored, always summed from its entries."""

    __tablename__ = "ledger_account"
    __table_args__ = (CheckConstraint("kind in ('asset', 'liability', 'revenue', 'expense')", name="kind_known"),)

    id: uuid.UUID = uuid_pk()
    code: str = Field(sa_type=String(120), unique=True)  # e.g. treasury, escrow:<mission>, member:<account>
    kind: str = Field(sa_type=String(16))
    name: str = Field(sa_type=String(200))
    member_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="RESTRICT", index=True)
    mission_id: uuid.UUID | None = Field(default=None, foreign_key="mission.id", ondelete="RESTRICT")
    created_at: datetime = timestamp(server_now=True)


class LedgerTransaction(SQLModel, table=True):
    """One business event, booked as two or more entries summing to zero."""

    __tablename__ = "ledger_transaction"
    __table_args__ = (
        CheckConstraint(
            "kind in ('client_payment', 'processor_fee', 'escrow_release', 'contribution', 'payout',"
            " 'payout_return', 'refund', 'dispute', 'dispute_fee')",
            name="kind_known",
        ),
    )

    id: uuid.UUID = uuid_pk()
    kind: str = Field(sa_type=String(32))
    # The outside identifier this transaction books (a PaymentIntent, a refund, a dispute, a SEPA
    # end-to-end id, a milestone for a release): unique per kind, so nothing is booked twice.
    external_ref: str | None = Field(default=None, sa_type=String(255))
    memo: str = Field(default="", sa_type=String(500))
    mission_id: uuid.UUID | None = Field(default=None, foreign_key="mission.id", ondelete="RESTRICT", index=True)
    invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoice.id", ondelete="RESTRICT", index=True)
    occurred_at: datetime = timestamp(server_now=True, index=True)


Index(
    "uq_ledger_transaction_external_ref",
    LedgerTransaction.kind,
    LedgerTransaction.external_ref,
    unique=True,
    postgresql_where=LedgerTransaction.external_ref.is_not(None),  # type: ignore[union-attr]
)


class LedgerEntry(SQLModel, table=True):
    """A signed amount on one account: positive is a debit, negative a credit."""

    __tablename__ = "ledger_entry"
    __table_args__ = (CheckConstraint("amount_minor <> 0", name="not_zero"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    transaction_id: uuid.UUID = Field(foreign_key="ledger_transaction.id", ondelete="RESTRICT", index=True)
    account_id: uuid.UUID = Field(foreign_key="ledger_account.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)


class Quote(SQLModel, table=True):
    """The cooperative's offer for one engagement; accepted, its terms and contribution rate are frozen."""

    __tablename__ = "quote"
    __table_args__ = (
        CheckConstraint("status in ('proposed', 'revision_requested', 'accepted', 'superseded')", name="status_known"),
        CheckConstraint("pricing in ('day_rate', 'fixed')", name="pricing_known"),
        CheckConstraint("total_ht_minor > 0", name="total_positive"),
        CheckConstraint("vat_rate_bp between 0 and 10000", name="vat_range"),
        CheckConstraint("vat_rate_bp > 0 or vat_exemption is not null", name="exemption_when_no_vat"),
        CheckConstraint(
            "(status = 'accepted') = (contribution_rate_bp is not null and accepted_at is not null)",
            name="frozen_when_accepted",
        ),
    )

    id: uuid.UUID = uuid_pk()
    engagement_id: uuid.UUID = Field(foreign_key="engagement.id", ondelete="RESTRICT", index=True)
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="RESTRICT", index=True)
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    client_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    version: int = Field(default=1, sa_type=SmallInteger)
    status: str = Field(default=QuoteStatus.PROPOSED.value, sa_type=String(24))
    pricing: str = Field(sa_type=String(16))
    day_rate_minor: int | None = Field(default=None, sa_type=BigInteger)
    days: int | None = Field(default=None, sa_type=Integer)
    total_ht_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(default="EUR", sa_type=String(3))
    vat_rate_bp: int = Field(default=2000, sa_type=Integer)
    vat_exemption: str | None = Field(default=None, sa_type=String(300))
    buyer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    revision_note: str | None = Field(default=None, sa_type=Text)
    # Frozen on acceptance: a later vote never changes a signed engagement.
    contribution_rate_bp: int | None = Field(default=None, sa_type=Integer)
    accepted_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp(server_now=True)


# One live quote per engagement: a new version supersedes the previous one.
Index(
    "uq_quote_live",
    Quote.engagement_id,
    unique=True,
    postgresql_where=Quote.status.in_(["proposed", "revision_requested", "accepted"]),  # type: ignore[attr-defined]
)


class Milestone(SQLModel, table=True):
    __tablename__ = "milestone"
    __table_args__ = (
        CheckConstraint("amount_ht_minor > 0", name="amount_positive"),
        CheckConstraint("status in ('pending', 'delivered', 'accepted')", name="status_known"),
    )

    id: uuid.UUID = uuid_pk()
    quote_id: uuid.UUID = Field(foreign_key="quote.id", ondelete="CASCADE", index=True)
    position: int = Field(sa_type=SmallInteger)
    title: str = Field(sa_type=String(200))
    amount_ht_minor: int = Field(sa_type=BigInteger)
    due_on: date
    status: str = Field(default=MilestoneStatus.PENDING.value, sa_type=String(16))
    delivered_at: datetime | None = timestamp(nullable=True)
    accepted_at: datetime | None = timestamp(nullable=True)
    released_at: datetime | None = timestamp(nullable=True)


class InvoiceCounter(SQLModel, table=True):
    """The next number of a series in a year; locked FOR UPDATE by the issuing transaction (no gaps)."""

    __tablename__ = "invoice_counter"

    series: str = Field(sa_type=String(8), primary_key=True)
    year: int = Field(sa_type=Integer, primary_key=True)
    last_number: int = Field(default=0, sa_type=Integer)


class Invoice(SQLModel, table=True):
    """An invoice or a credit note, issued once and never edited (a trigger refuses it)."""

    __tablename__ = "invoice"
    __table_args__ = (
        CheckConstraint("kind in ('invoice', 'credit_note')", name="kind_known"),
        CheckConstraint("(kind = 'credit_note') = (credited_invoice_id is not null)", name="credit_note_refers"),
        CheckConstraint("total_ttc_minor = total_ht_minor + total_vat_minor", name="totals_add_up"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: uuid.UUID = uuid_pk()
    kind: str = Field(sa_type=String(16))
    series: str = Field(sa_type=String(8))
    year: int = Field(sa_type=Integer)
    number: int = Field(sa_type=Integer)
    reference: str = Field(sa_type=String(32), unique=True)  # e.g. F-2026-000001
    quote_id: uuid.UUID = Field(foreign_key="quote.id", ondelete="RESTRICT", index=True)
    milestone_id: uuid.UUID = Field(foreign_key="milestone.id", ondelete="RESTRICT", index=True)
    credited_invoice_id: uuid.UUID | None = Field(default=None, foreign_key="invoice.id", ondelete="RESTRICT")
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="RESTRICT")
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    client_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    issue_date: date
    due_date: date
    currency: str = Field(sa_type=String(3))
    seller: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    buyer: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    lines: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    total_ht_minor: int = Field(sa_type=BigInteger)
    total_vat_minor: int = Field(sa_type=BigInteger)
    total_ttc_minor: int = Field(sa_type=BigInteger)
    contribution_rate_bp: int = Field(sa_type=Integer)
    mentions: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = timestamp(server_now=True)


Index("uq_invoice_number", Invoice.series, Invoice.year, Invoice.number, unique=True)
# One invoice per milestone; corrections are credit notes.
Index(
    "uq_invoice_milestone",
    Invoice.milestone_id,
    unique=True,
    postgresql_where=Invoice.kind == "invoice",  # type: ignore[arg-type]
)


class Payment(SQLModel, table=True):
    """A collection attempt for an invoice, recorded before Stripe is called (its id makes the key)."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("status in ('created', 'processing', 'succeeded', 'failed', 'canceled')", name="status_known"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refunded_minor between 0 and amount_minor", name="refund_bounded"),
    )

    id: uuid.UUID = uuid_pk()
    invoice_id: uuid.UUID = Field(foreign_key="invoice.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(sa_type=String(3))
    method: str = Field(default="card", sa_type=String(32))
    idempotency_key: str = Field(sa_type=String(80), unique=True)
    payment_intent_id: str | None = Field(default=None, sa_type=String(255))
    client_secret: str | None = Field(default=None, sa_type=String(255))
    status: str = Field(default=PaymentStatus.CREATED.value, sa_type=String(16))
    refunded_minor: int = Field(default=0, sa_type=BigInteger)
    # The VAT and contribution parts of what was refunded (the member's part is the rest): what is left
    # of each is what later refunds and the release divide, so the parts always add up to the cent.
    refunded_vat_minor: int = Field(default=0, sa_type=BigInteger)
    refunded_contribution_minor: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = timestamp(server_now=True)
    updated_at: datetime = timestamp(server_now=True)


Index(
    "uq_payment_intent",
    Payment.payment_intent_id,
    unique=True,
    postgresql_where=Payment.payment_intent_id.is_not(None),  # type: ignore[union-attr]
)
# At most one live attempt per invoice: a retry reuses it (and its idempotency key).
Index(
    "uq_payment_live",
    Payment.invoice_id,
    unique=True,
    postgresql_where=Payment.status.in_(["created", "processing", "succeeded"]),  # type: ignore[attr-defined]
)


class Refund(SQLModel, table=True):
    __tablename__ = "refund"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: uuid.UUID = uuid_pk()
    payment_id: uuid.UUID = Field(foreign_key="payment.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    idempotency_key: str = Field(sa_type=String(80), unique=True)
    stripe_refund_id: str | None = Field(default=None, sa_type=String(255))
    status: str = Field(default="created", sa_type=String(16))
    reason: str = Field(default="", sa_type=String(300))
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)


Index(
    "uq_refund_stripe",
    Refund.stripe_refund_id,
    unique=True,
    postgresql_where=Refund.stripe_refund_id.is_not(None),  # type: ignore[union-attr]
)


class WebhookEvent(SQLModel, table=True):
    """The Stripe inbox: each event stored once by its id, acknowledged at once, processed once."""

    __tablename__ = "webhook_event"

    event_id: str = Field(sa_type=String(255), primary_key=True)
    type: str = Field(sa_type=String(100))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = timestamp(server_now=True)
    processed_at: datetime | None = timestamp(nullable=True)
    attempts: int = Field(default=0, sa_type=Integer)
    last_error: str | None = Field(default=None, sa_type=String(500))


Index(
    "ix_webhook_event_pending",
    WebhookEvent.received_at,
    postgresql_where=WebhookEvent.processed_at.is_(None),  # type: ignore[union-attr]
)


class BankAccount(SQLModel, table=True):
    """A member's IBAN and account holder's name, sealed under the member's own data key
    (`coop-sealed:1:...`, app/core/sealing.py, the column and member id as associated data), so that
    erasing the member crypto-shreds them in backups too; only the IBAN's last four characters are in clear."""

    __tablename__ = "member_bank_account"

    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    holder_name: str = Field(sa_type=Text)  # sealed
    iban_sealed: str = Field(sa_type=Text)
    iban_last4: str = Field(sa_type=String(4))
    country: str = Field(sa_type=String(2))
    bic: str | None = Field(default=None, sa_type=String(11))
    updated_at: datetime = timestamp(server_now=True)


class PayoutRun(SQLModel, table=True):
    """What the members are owed, gathered by one administrator and approved by another (four eyes)."""

    __tablename__ = "payout_run"
    __table_args__ = (
        CheckConstraint("status in ('prepared', 'approved')", name="status_known"),
        CheckConstraint("approved_by_id is null or approved_by_id <> prepared_by_id", name="four_eyes"),
        CheckConstraint("(status = 'approved') = (sepa_xml is not null)", name="file_when_approved"),
    )

    id: uuid.UUID = uuid_pk()
    status: str = Field(default="prepared", sa_type=String(16))
    prepared_by_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT")
    approved_by_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="RESTRICT")
    execution_date: date
    total_minor: int = Field(sa_type=BigInteger)
    message_id: str = Field(sa_type=String(35), unique=True)
    sepa_xml: str | None = Field(default=None, sa_type=Text)  # written once, at approval; never regenerated
    prepared_at: datetime = timestamp(server_now=True)
    approved_at: datetime | None = timestamp(nullable=True)


class PayoutLine(SQLModel, table=True):
    """One transfer of a run; its id (hex) is the SEPA end-to-end id."""

    __tablename__ = "payout_line"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status in ('pending', 'submitted', 'executed', 'returned')", name="status_known"),
    )

    id: uuid.UUID = uuid_pk()
    run_id: uuid.UUID = Field(foreign_key="payout_run.id", ondelete="RESTRICT", index=True)
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    iban_last4: str = Field(sa_type=String(4))
    status: str = Field(default="pending", sa_type=String(16))
    updated_at: datetime = timestamp(server_now=True)


# A member is in at most one payout not yet executed or returned: nothing is paid twice.
Index(
    "uq_payout_line_live",
    PayoutLine.member_id,
    unique=True,
    postgresql_where=PayoutLine.status.in_(["pending", "submitted"]),  # type: ignore[attr-defined]
)
