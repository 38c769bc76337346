"""All SQL of the payments feature: the journal, quotes and milestones, invoice numbering, payments,
refunds, the webhook inbox, and the reads that engagements and the voted contribution rate need.

Nothing here decides a rule; it books what the service computed. Idempotence lives in the database:
a ledger transaction is inserted `ON CONFLICT DO NOTHING` on its (kind, external reference).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    BankAccount,
    ContributionRate,
    Engagement,
    Invoice,
    InvoiceCounter,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Milestone,
    Mission,
    Payment,
    PayoutLine,
    PayoutRun,
    Quote,
    Refund,
    WebhookEvent,
)
from app.payments.ledger import FIXED_ACCOUNTS, Posting


class PaymentsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._accounts: dict[str, uuid.UUID] = {}

    async def add(self, row: Any) -> None:
        self.session.add(row)
        await self.session.flush()

    # -- what other features own, read through queries --------------------------------------------

    async def contribution_rate_bp(self) -> int | None:
        """The contribution in force: the latest row the assemblies' binding proposals wrote."""
        return await self.session.scalar(
            select(ContributionRate.basis_points).order_by(ContributionRate.id.desc()).limit(1)  # type: ignore[union-attr]
        )

    async def engagement(self, engagement_id: uuid.UUID) -> tuple[Engagement, Mission] | None:
        row = (
            await self.session.execute(
                select(Engagement, Mission)
                .join(Mission, Mission.id == Engagement.mission_id)  # type: ignore[arg-type]
                .where(Engagement.id == engagement_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def mission(self, mission_id: uuid.UUID) -> Mission | None:
        return await self.session.get(Mission, mission_id)

    # -- the journal -------------------------------------------------------------------------------

    async def account_id(
        self, code: str, *, member_id: uuid.UUID | None = None, mission_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        if code in self._accounts:
            return self._accounts[code]
        if code in FIXED_ACCOUNTS:
            kind, name = FIXED_ACCOUNTS[code]
        elif code.startswith("escrow:"):
            kind, name = "liability", "Escrow of a mission"
            mission_id = uuid.UUID(code.split(":", 1)[1])
        elif code.startswith("member:"):
            kind, name = "liability", "Owed to a member"
            member_id = uuid.UUID(code.split(":", 1)[1])
        else:
            raise ValueError(f"unknown account code {code}")
        # One round trip for a new account (a mission's escrow), two for an existing one; then cached.
        found = await self.session.scalar(
            insert(LedgerAccount)
            .values(id=uuid.uuid4(), code=code, kind=kind, name=name, member_id=member_id, mission_id=mission_id)
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(LedgerAccount.id)
        )
        if found is None:
            found = await self.session.scalar(select(LedgerAccount.id).where(LedgerAccount.code == code))
        assert found is not None
        self._accounts[code] = found
        return found

    async def book(
        self,
        kind: str,
        postings: list[Posting],
        *,
        external_ref: str | None,
        memo: str = "",
        mission_id: uuid.UUID | None = None,
        invoice_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> uuid.UUID | None:
        """Book a transaction once: None when (kind, external_ref) was already booked. The transaction and
        its entries are written by one statement (the entries only if the transaction was inserted)."""
        accounts = [await self.account_id(p.account) for p in postings]
        booked = await self.session.scalar(
            text(
                "with booked as (insert into ledger_transaction"
                " (id, kind, external_ref, memo, mission_id, invoice_id, occurred_at)"
                " values (:id, :kind, :external_ref, :memo, :mission_id, :invoice_id, coalesce(:occurred_at, now()))"
                # A null reference never conflicts (the unique index is partial): such rows always book.
                " on conflict (kind, external_ref) where external_ref is not null do nothing returning id)"
                " insert into ledger_entry (transaction_id, account_id, amount_minor)"
                " select booked.id, entry.account_id, entry.amount_minor from booked,"
                " unnest(cast(:accounts as uuid[]), cast(:amounts as bigint[])) as entry(account_id, amount_minor)"
                " returning transaction_id"
            ).bindparams(bindparam("occurred_at", type_=DateTime(timezone=True))),
            {
                "id": uuid.uuid4(),
                "kind": kind,
                "external_ref": external_ref,
                "memo": memo[:500],
                "mission_id": mission_id,
                "invoice_id": invoice_id,
                "occurred_at": occurred_at,
                "accounts": accounts,
                "amounts": [p.amount_minor for p in postings],
            },
        )
        return booked

    async def is_booked(self, kind: str, external_ref: str) -> bool:
        found = await self.session.scalar(
            select(LedgerTransaction.id).where(
                LedgerTransaction.kind == kind, LedgerTransaction.external_ref == external_ref
            )
        )
        return found is not None

    async def balances(self) -> list[Any]:
        """Every account with its derived balance (sum of its entries)."""
        return list(
            (
                await self.session.execute(
                    select(
                        LedgerAccount.code,
                        LedgerAccount.kind,
                        LedgerAccount.name,
                        LedgerAccount.member_id,
                        func.coalesce(func.sum(LedgerEntry.amount_minor), 0).label("sum_minor"),
                    )
                    .select_from(LedgerAccount)
                    .outerjoin(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)  # type: ignore[arg-type]
                    .group_by(LedgerAccount.id)
                    .order_by(LedgerAccount.code)
                )
            ).all()
        )

    async def balance(self, code: str) -> int:
        return int(
            await self.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
                .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)  # type: ignore[arg-type]
                .where(LedgerAccount.code == code)
            )
            or 0
        )

    async def unbalanced_transactions(self) -> list[uuid.UUID]:
        rows = await self.session.execute(
            text(
                "select t.id from ledger_transaction t left join ledger_entry e on e.transaction_id = t.id"
                " group by t.id having coalesce(sum(e.amount_minor), 0) <> 0 or count(e.id) < 2"
            )
        )
        return [row[0] for row in rows]

    async def monthly_summary(self) -> list[Any]:
        """Movements by month and account family (member accounts merged): what every member may read."""
        rows = await self.session.execute(
            text(
                "select to_char(date_trunc('month', t.occurred_at at time zone 'UTC'), 'YYYY-MM') as month,"
                " t.kind, case when a.code like 'member:%' then 'members' when a.code like 'escrow:%' then 'escrow'"
                " else a.code end as account, sum(e.amount_minor) as sum_minor"
                " from ledger_entry e join ledger_transaction t on t.id = e.transaction_id"
                " join ledger_account a on a.id = e.account_id"
                " group by 1, 2, 3 order by 1, 2, 3"
            )
        )
        return list(rows)

    async def account_lines(self, code: str, limit: int, offset: int) -> tuple[list[Any], int]:
        base = (
            select(
                LedgerTransaction.id,
                LedgerTransaction.kind,
                LedgerTransaction.memo,
                LedgerTransaction.occurred_at,
                LedgerTransaction.invoice_id,
                LedgerTransaction.mission_id,
                LedgerEntry.amount_minor,
            )
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)  # type: ignore[arg-type]
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)  # type: ignore[arg-type]
            .where(LedgerAccount.code == code)
        )
        total = await self.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = await self.session.execute(
            base.order_by(LedgerTransaction.occurred_at, LedgerEntry.id).limit(limit).offset(offset)  # type: ignore[arg-type]
        )
        return list(rows), int(total or 0)

    async def journal(self) -> list[Any]:
        """Every entry with its transaction and account, in booking order (the FEC export)."""
        rows = await self.session.execute(
            select(
                LedgerTransaction.id.label("transaction_id"),  # type: ignore[attr-defined]
                LedgerTransaction.kind,
                LedgerTransaction.memo,
                LedgerTransaction.external_ref,
                LedgerTransaction.occurred_at,
                LedgerTransaction.invoice_id,
                LedgerAccount.code,
                LedgerAccount.name,
                LedgerEntry.id.label("entry_id"),  # type: ignore[union-attr]
                LedgerEntry.amount_minor,
                Invoice.reference,
            )
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)  # type: ignore[arg-type]
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)  # type: ignore[arg-type]
            .outerjoin(Invoice, Invoice.id == LedgerTransaction.invoice_id)  # type: ignore[arg-type]
            .order_by(LedgerTransaction.occurred_at, LedgerTransaction.id, LedgerEntry.id)  # type: ignore[arg-type]
        )
        return list(rows)

    # -- quotes and milestones ---------------------------------------------------------------------

    async def quote(self, quote_id: uuid.UUID, *, lock: bool = False) -> Quote | None:
        statement = select(Quote).where(Quote.id == quote_id)
        if lock:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def live_quote(self, engagement_id: uuid.UUID) -> Quote | None:
        return await self.session.scalar(
            select(Quote).where(Quote.engagement_id == engagement_id, Quote.status != "superseded").with_for_update()
        )

    async def quote_count(self, engagement_id: uuid.UUID) -> int:
        return int(await self.session.scalar(select(func.count()).where(Quote.engagement_id == engagement_id)) or 0)

    async def quotes_for(self, viewer_id: uuid.UUID | None, limit: int, offset: int) -> tuple[Sequence[Quote], int]:
        statement = select(Quote)
        if viewer_id is not None:
            statement = statement.where(or_(Quote.member_id == viewer_id, Quote.client_id == viewer_id))
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = await self.session.scalars(
            statement.order_by(Quote.created_at.desc()).limit(limit).offset(offset)  # type: ignore[attr-defined]
        )
        return rows.all(), int(total or 0)

    async def milestones(self, quote_id: uuid.UUID) -> Sequence[Milestone]:
        rows = await self.session.scalars(
            select(Milestone).where(Milestone.quote_id == quote_id).order_by(Milestone.position)  # type: ignore[arg-type]
        )
        return rows.all()

    async def milestone(self, milestone_id: uuid.UUID, *, lock: bool = False) -> tuple[Milestone, Quote] | None:
        statement = (
            select(Milestone, Quote)
            .join(Quote, Quote.id == Milestone.quote_id)  # type: ignore[arg-type]
            .where(Milestone.id == milestone_id)
        )
        if lock:
            statement = statement.with_for_update(of=Milestone)  # type: ignore[arg-type]
        row = (await self.session.execute(statement)).first()
        return None if row is None else (row[0], row[1])

    async def invoice_context(self, invoice_id: uuid.UUID) -> tuple[Invoice, Milestone, Quote] | None:
        """An invoice with its milestone (locked: bookings on one milestone queue) and quote, in one query."""
        row = (
            await self.session.execute(
                select(Invoice, Milestone, Quote)
                .join(Milestone, Milestone.id == Invoice.milestone_id)  # type: ignore[arg-type]
                .join(Quote, Quote.id == Milestone.quote_id)  # type: ignore[arg-type]
                .where(Invoice.id == invoice_id)
                .with_for_update(of=Milestone)  # type: ignore[arg-type]
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    async def due_for_release(self, delivered_before: datetime) -> list[uuid.UUID]:
        """Milestones delivered before the cut-off, never accepted, whose invoice is paid and still held."""
        rows = await self.session.execute(
            select(Milestone.id)
            .join(Invoice, (Invoice.milestone_id == Milestone.id) & (Invoice.kind == "invoice"))  # type: ignore[arg-type]
            .join(Payment, (Payment.invoice_id == Invoice.id) & (Payment.status == "succeeded"))  # type: ignore[arg-type]
            .where(
                Milestone.status == "delivered",
                Milestone.delivered_at < delivered_before,  # type: ignore[operator]
                Milestone.released_at.is_(None),  # type: ignore[union-attr]
            )
            .limit(100)
        )
        return [row[0] for row in rows]

    # -- invoices ----------------------------------------------------------------------------------

    async def next_number(self, series: str, year: int) -> int:
        """The next number of the series, gap-free: the counter row stays locked until this transaction
        ends, so concurrent issuers queue; a rollback gives the number back with the invoice."""
        await self.session.execute(
            insert(InvoiceCounter)
            .values(series=series, year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["series", "year"])
        )
        number = await self.session.scalar(
            text(
                "update invoice_counter set last_number = last_number + 1"
                " where series = :series and year = :year returning last_number"
            ),
            {"series": series, "year": year},
        )
        assert number is not None
        return int(number)

    async def invoice(self, invoice_id: uuid.UUID) -> Invoice | None:
        return await self.session.get(Invoice, invoice_id)

    async def invoice_for_milestone(self, milestone_id: uuid.UUID) -> Invoice | None:
        return await self.session.scalar(
            select(Invoice).where(Invoice.milestone_id == milestone_id, Invoice.kind == "invoice")
        )

    async def credited_total(self, invoice_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.coalesce(func.sum(Invoice.total_ttc_minor), 0)).where(
                    Invoice.credited_invoice_id == invoice_id
                )
            )
            or 0
        )

    async def invoices_for(self, viewer_id: uuid.UUID | None, limit: int, offset: int) -> tuple[Sequence[Invoice], int]:
        statement = select(Invoice)
        if viewer_id is not None:
            statement = statement.where(or_(Invoice.member_id == viewer_id, Invoice.client_id == viewer_id))
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = await self.session.scalars(
            statement.order_by(Invoice.series, Invoice.year, Invoice.number).limit(limit).offset(offset)  # type: ignore[arg-type]
        )
        return rows.all(), int(total or 0)

    # -- payments and refunds ----------------------------------------------------------------------

    async def live_payment(self, invoice_id: uuid.UUID) -> Payment | None:
        return await self.session.scalar(
            select(Payment)
            .where(Payment.invoice_id == invoice_id, Payment.status.in_(["created", "processing", "succeeded"]))  # type: ignore[attr-defined]
            .with_for_update()
        )

    async def payment_by_intent(self, intent_id: str) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(Payment.payment_intent_id == intent_id).with_for_update()
        )

    async def payment(self, payment_id: uuid.UUID) -> Payment | None:
        return await self.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())

    async def refund_by_stripe_id(self, refund_id: str) -> Refund | None:
        return await self.session.scalar(select(Refund).where(Refund.stripe_refund_id == refund_id))

    async def payments_with_intents(self) -> Sequence[Payment]:
        return (await self.session.scalars(select(Payment).where(Payment.payment_intent_id.is_not(None)))).all()  # type: ignore[union-attr]

    async def booked_amounts(self, kind: str) -> dict[str, int]:
        """What the journal booked per external reference, from the treasury's side (for reconciliation)."""
        rows = await self.session.execute(
            text(
                "select t.external_ref, sum(e.amount_minor) from ledger_transaction t"
                " join ledger_entry e on e.transaction_id = t.id join ledger_account a on a.id = e.account_id"
                " where t.kind = :kind and a.code = 'treasury' and t.external_ref is not null group by 1"
            ),
            {"kind": kind},
        )
        return {row[0]: int(row[1]) for row in rows}

    async def booked_amount(self, kind: str, external_ref: str) -> int:
        """What a booked transaction took out of the treasury (0 when it was never booked)."""
        taken = await self.session.scalar(
            text(
                "select -coalesce(sum(e.amount_minor), 0) from ledger_transaction t"
                " join ledger_entry e on e.transaction_id = t.id join ledger_account a on a.id = e.account_id"
                " where t.kind = :kind and t.external_ref = :ref and a.code = 'treasury'"
            ),
            {"kind": kind, "ref": external_ref},
        )
        return int(taken or 0)

    # -- the webhook inbox -------------------------------------------------------------------------

    async def store_event(self, event_id: str, type_: str, payload: dict[str, Any]) -> bool:
        """True when the event is new; a duplicate delivery changes nothing."""
        stored = await self.session.scalar(
            insert(WebhookEvent)
            .values(event_id=event_id, type=type_, payload=payload)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(WebhookEvent.event_id)
        )
        return stored is not None

    async def claim_events(self, size: int) -> Sequence[WebhookEvent]:
        """The oldest unprocessed events no other worker holds (a poisoned one is tried 5 times)."""
        rows = await self.session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.processed_at.is_(None), WebhookEvent.attempts < 5)  # type: ignore[union-attr]
            .order_by(WebhookEvent.received_at)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def mark_processed(self, event_ids: list[str]) -> None:
        """A batch applied whole: one statement marks it (its rows are locked by this transaction)."""
        await self.session.execute(
            text(
                "update webhook_event set processed_at = now(), attempts = attempts + 1"
                " where event_id = any(cast(:ids as text[]))"
            ),
            {"ids": event_ids},
        )

    async def abandoned_events(self) -> list[tuple[str, str, str | None]]:
        """Inbox entries that failed on every attempt: left for the operator (the reconciliation lists them)."""
        rows = await self.session.execute(
            select(WebhookEvent.event_id, WebhookEvent.type, WebhookEvent.last_error)
            .where(WebhookEvent.processed_at.is_(None), WebhookEvent.attempts >= 5)  # type: ignore[union-attr]
            .order_by(WebhookEvent.received_at)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def pending_events(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(WebhookEvent.processed_at.is_(None), WebhookEvent.attempts < 5)  # type: ignore[union-attr]
            )
            or 0
        )

    # -- payouts -----------------------------------------------------------------------------------

    async def bank_account(self, member_id: uuid.UUID) -> BankAccount | None:
        return await self.session.get(BankAccount, member_id)

    async def members_owed(self) -> list[tuple[uuid.UUID, int, str]]:
        """(member, amount owed, IBAN's last four) for members owed more than zero, with an IBAN on file
        and no payout line pending or submitted."""
        rows = await self.session.execute(
            text(
                "select a.member_id, -sum(e.amount_minor) as owed, b.iban_last4 from ledger_entry e"
                " join ledger_account a on a.id = e.account_id"
                " join member_bank_account b on b.member_id = a.member_id"
                " where a.code like 'member:%' and not exists (select 1 from payout_line l"
                "  where l.member_id = a.member_id and l.status in ('pending', 'submitted'))"
                " group by a.member_id, b.iban_last4 having -sum(e.amount_minor) > 0 order by a.member_id"
            )
        )
        return [(row[0], int(row[1]), row[2]) for row in rows]

    async def payout_run(self, run_id: uuid.UUID, *, lock: bool = False) -> PayoutRun | None:
        statement = select(PayoutRun).where(PayoutRun.id == run_id)
        if lock:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def payout_runs(self, limit: int, offset: int) -> tuple[Sequence[PayoutRun], int]:
        """Runs newest first (by preparation), with how many there are in all."""
        rows = await self.session.scalars(
            select(PayoutRun)
            .order_by(PayoutRun.prepared_at.desc(), PayoutRun.id)  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(PayoutRun))
        return rows.all(), total or 0

    async def payout_lines(self, run_id: uuid.UUID) -> Sequence[PayoutLine]:
        rows = await self.session.scalars(
            select(PayoutLine).where(PayoutLine.run_id == run_id).order_by(PayoutLine.member_id)  # type: ignore[arg-type]
        )
        return rows.all()

    async def payout_line(self, line_id: uuid.UUID) -> PayoutLine | None:
        return await self.session.scalar(select(PayoutLine).where(PayoutLine.id == line_id).with_for_update())
