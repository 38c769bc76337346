"""A stateful property test of the money: random payments (any VAT and contribution rate), partial
and full refunds, disputes lost and won (each outcome delivered twice), Stripe's processing fees,
acceptances, auto-releases, payout runs and returned transfers, each
through `PaymentsService`/`PayoutsService` in its own transaction on a real database. After every step:
every transaction balances, the treasury holds exactly what came in less what went out, and no
account but a member's is below zero (members may owe money back after a refund that followed a
payout; the treasury, which refunded the client at once, is short of that and of the dispute and
processing fees at most). Bounded: a few examples of a few steps, so it runs in seconds."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import hypothesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db.engine import open_database
from app.db.transaction import UnitOfWork
from app.models import Account
from app.payments import ledger
from app.payments.gateway import Fee
from app.payments.payouts import PayoutsService
from app.payments.reports import ReportsService
from app.payments.service import DISPUTE_FEE_MINOR, PaymentsService
from app.settings import Settings
from tests.integration.payments import factories

IBANS = ["FR7630006000011234567890189", "DE89370400440532013000", "BE68539007547034"]


def test_money_is_conserved_and_every_transaction_balances(database_url: URL, settings: Settings) -> None:
    loop = asyncio.new_event_loop()
    database = open_database(settings, database_url)

    def run(work):  # type: ignore[no-untyped-def]
        async def inside():  # type: ignore[no-untyped-def]
            async with database.sessionmaker() as session, session.begin():
                return await work(session)

        return loop.run_until_complete(inside())

    class Money(RuleBasedStateMachine):
        payments = Bundle("payments")
        disputes = Bundle("disputes")

        @initialize()
        def people(self) -> None:
            async def make(session):  # type: ignore[no-untyped-def]
                members = [await factories.member(session, f"Member {i}") for i in range(3)]
                payouts = PayoutsService(UnitOfWork(session), settings)
                for account, iban in zip(members, IBANS, strict=True):
                    await payouts.save_bank_account(account, account.display_name, iban, None)
                admins = []
                for _ in range(2):
                    admin = Account(email=f"a.{uuid.uuid4().hex[:10]}@example.org", display_name="A", role="admin")
                    session.add(admin)
                    admins.append(admin)
                await session.flush()
                return members, await factories.customer(session), admins

            self.members, self.client, self.admins = run(make)
            self.expected_treasury = run(
                lambda s: PaymentsService(UnitOfWork(s), settings).repository.balance("treasury")
            )

        @rule(
            target=payments,
            ht=st.integers(min_value=1, max_value=500_000),
            vat=st.sampled_from([0, 550, 1000, 2000]),
            rate=st.sampled_from([0, 800, 1500]),
            who=st.integers(min_value=0, max_value=2),
        )
        def pay(self, ht: int, vat: int, rate: int, who: int):  # type: ignore[no-untyped-def]
            async def work(session):  # type: ignore[no-untyped-def]
                billed = await factories.billed_milestone(
                    session,
                    settings,
                    worker=self.members[who],
                    client=self.client,
                    amount_ht_minor=ht,
                    vat_rate_bp=vat,
                    contribution_rate_bp=rate,
                )
                service = PaymentsService(UnitOfWork(session), settings)
                payment = await service.repository.payment(billed.payment_id)
                assert await service.book_payment(payment)
                assert not await service.book_payment(payment)  # a second delivery books nothing
                return billed

            billed = run(work)
            self.expected_treasury += billed.amount_minor
            return billed

        def _refund(self, billed, fraction: float, kind: str) -> str | None:  # type: ignore[no-untyped-def]
            async def work(session):  # type: ignore[no-untyped-def]
                service = PaymentsService(UnitOfWork(session), settings)
                payment = await service.repository.payment(billed.payment_id)
                left = payment.amount_minor - payment.refunded_minor
                amount = max(1, int(left * fraction)) if left else 0
                if not amount:
                    return 0, None
                reference = f"{'dp' if kind == 'dispute' else 're'}_{uuid.uuid4().hex[:20]}"
                assert await service.book_refund(payment, reference, amount, kind=kind)
                return amount + (DISPUTE_FEE_MINOR if kind == "dispute" else 0), reference

            taken, reference = run(work)
            self.expected_treasury -= taken
            return reference

        @rule(billed=payments, fraction=st.sampled_from([0.1, 0.5, 1.0]))
        def refund(self, billed, fraction: float) -> None:  # type: ignore[no-untyped-def]
            self._refund(billed, fraction, "refund")

        @rule(target=disputes, billed=payments)
        def dispute(self, billed):  # type: ignore[no-untyped-def]
            reference = self._refund(billed, 1.0, "dispute")
            return multiple() if reference is None else multiple((billed, reference))

        @rule(opened=consumes(disputes))
        def win_dispute(self, opened) -> None:  # type: ignore[no-untyped-def]
            """Stripe reinstates the money (the fee stays); a second delivery of the outcome books nothing."""
            billed, reference = opened

            async def work(session):  # type: ignore[no-untyped-def]
                service = PaymentsService(UnitOfWork(session), settings)
                payment = await service.repository.payment(billed.payment_id)
                back = await service.repository.booked_amount("dispute", reference)
                assert await service.book_dispute_won(payment, reference)
                assert not await service.book_dispute_won(payment, reference)
                return back

            self.expected_treasury += run(work)

        @rule(billed=payments, fee=st.integers(min_value=1, max_value=5_000))
        def processor_fee(self, billed, fee: int) -> None:  # type: ignore[no-untyped-def]
            """Stripe's fee on a payment, borne by the cooperative; booked once per balance transaction."""

            async def work(session):  # type: ignore[no-untyped-def]
                service = PaymentsService(UnitOfWork(session), settings)
                payment = await service.repository.payment(billed.payment_id)
                charged = Fee(id=f"txn_{billed.payment_id.hex[:20]}", amount_minor=fee, currency="EUR")
                return fee if await service.book_processor_fee(payment, charged) else 0

            self.expected_treasury -= run(work)

        @rule(billed=payments)
        def accept(self, billed) -> None:  # type: ignore[no-untyped-def]
            async def work(session):  # type: ignore[no-untyped-def]
                service = PaymentsService(UnitOfWork(session), settings)
                milestone, quote = await service.repository.milestone(billed.milestone_id, lock=True)
                if milestone.status == "delivered":
                    milestone.status, milestone.accepted_at = "accepted", datetime.now(UTC)
                    await service.release(milestone, quote)

            run(work)

        @rule()
        def auto_release(self) -> None:
            later = datetime.now(UTC) + timedelta(days=settings.escrow_release_days + 1)
            run(lambda s: PaymentsService(UnitOfWork(s), settings).release_due(later))

        @rule(returned=st.booleans())
        def payout_run(self, returned: bool) -> None:
            async def work(session):  # type: ignore[no-untyped-def]
                payouts = PayoutsService(UnitOfWork(session), settings)
                if not await payouts.repository.members_owed():
                    return 0
                view = await payouts.prepare(self.admins[0], None)
                await payouts.approve(self.admins[1], view.run.id)
                paid = 0
                for line in view.lines:
                    await payouts.outcome(line.id, "returned" if returned else "executed")
                    paid += 0 if returned else line.amount_minor
                return paid

            self.expected_treasury -= run(work)

        @invariant()
        def books_hold(self) -> None:
            async def check(session):  # type: ignore[no-untyped-def]
                service = PaymentsService(UnitOfWork(session), settings)
                assert await ReportsService(UnitOfWork(session)).check() == []
                assert await session.scalar(text("select coalesce(sum(amount_minor), 0) from ledger_entry")) == 0
                balances = await service.repository.balances()
                treasury = next((int(r.sum_minor) for r in balances if r.code == "treasury"), 0)
                assert treasury == self.expected_treasury
                for row in balances:
                    shown = ledger.normal_sign(row.kind) * int(row.sum_minor)
                    if row.code.startswith("member:"):
                        continue
                    if row.code == "treasury":
                        # The treasury can be short only of what members owe back (a refund after their
                        # payout, paid to the client at once) and of the dispute and processing fees the
                        # cooperative paid.
                        fees = sum(int(r.sum_minor) for r in balances if r.code in ("dispute_fees", "processor_fees"))
                        owed_back = sum(max(0, int(r.sum_minor)) for r in balances if r.code.startswith("member:"))
                        assert shown + fees + owed_back >= 0, (row.code, shown, fees, owed_back)
                    else:
                        assert shown >= 0, (row.code, shown)

            run(check)

    try:
        run_state_machine_as_test(
            Money,
            settings=hypothesis.settings(
                max_examples=12,
                stateful_step_count=16,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        loop.run_until_complete(database.dispose())
        loop.close()
