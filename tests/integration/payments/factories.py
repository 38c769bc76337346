"""Rows for the property test and the benchmark: a billed milestone built straight in the database
(accounts, mission, engagement, accepted quote, invoice, succeeded payment) in milliseconds, where the
HTTP journey would take a second. Everything else goes through `PaymentsService` as in production."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.transaction import UnitOfWork
from app.models import (
    Account,
    Application,
    ClientOrganisation,
    Engagement,
    Milestone,
    Mission,
    MissionSeat,
    Payment,
    Quote,
)
from app.payments import invoicing
from app.payments.service import PaymentsService
from app.settings import Settings


async def member(session: AsyncSession, name: str = "Member") -> Account:
    account = Account(
        email=f"m.{uuid.uuid4().hex[:10]}@example.org", display_name=name, role="member", member_status="member"
    )
    session.add(account)
    await session.flush()
    return account


async def customer(session: AsyncSession) -> Account:
    organisation = ClientOrganisation(legal_name="Acme SAS", registration_number="732829320", billing_address="Paris")
    session.add(organisation)
    await session.flush()
    account = Account(
        email=f"c.{uuid.uuid4().hex[:10]}@example.org",
        display_name="Client",
        role="client",
        client_organisation_id=organisation.id,
        email_verified_at=datetime.now(UTC),  # publishing a mission needs a verified address
    )
    session.add(account)
    await session.flush()
    return account


@dataclass(frozen=True)
class Billed:
    payment_id: uuid.UUID
    intent_id: str
    milestone_id: uuid.UUID
    member_id: uuid.UUID
    amount_minor: int


async def billed_milestone(
    session: AsyncSession,
    settings: Settings,
    *,
    worker: Account,
    client: Account,
    amount_ht_minor: int,
    vat_rate_bp: int = 2000,
    contribution_rate_bp: int = 1000,
    invoiced: bool = True,
) -> Billed:
    """An accepted quote with one delivered milestone, its invoice issued, and a payment whose
    PaymentIntent is recorded (not yet booked: booking is what the caller exercises). With
    `invoiced=False`, only the milestone."""
    mission = Mission(
        owner_id=client.id,
        client_organisation_id=client.client_organisation_id,
        title="Mission",
        description="Mission",
        budget_kind="fixed",
        budget_amount_minor=amount_ht_minor,
        starts_on=date(2030, 1, 1),
        ends_on=date(2030, 2, 1),
        work_mode="remote",
        status="delivered",
    )
    session.add(mission)
    await session.flush()
    seat = MissionSeat(mission_id=mission.id, position=0, title="Seat")
    session.add(seat)
    await session.flush()
    application = Application(
        mission_id=mission.id, seat_id=seat.id, member_id=worker.id, message="x", proposed_day_rate_minor=1
    )
    session.add(application)
    await session.flush()
    engagement = Engagement(
        mission_id=mission.id,
        seat_id=seat.id,
        member_id=worker.id,
        application_id=application.id,
        day_rate_minor=1,
        starts_on=mission.starts_on,
        ends_on=mission.ends_on,
    )
    session.add(engagement)
    await session.flush()
    quote = Quote(
        engagement_id=engagement.id,
        mission_id=mission.id,
        member_id=worker.id,
        client_id=client.id,
        status="accepted",
        pricing="fixed",
        total_ht_minor=amount_ht_minor,
        vat_rate_bp=vat_rate_bp,
        vat_exemption=None if vat_rate_bp else "TVA non applicable, art. 293 B du CGI",
        buyer={"name": "Acme SAS", "address": "Paris"},
        contribution_rate_bp=contribution_rate_bp,
        accepted_at=datetime.now(UTC),
    )
    session.add(quote)
    await session.flush()
    milestone = Milestone(
        quote_id=quote.id,
        position=0,
        title="Tout",
        amount_ht_minor=amount_ht_minor,
        due_on=date(2030, 2, 1),
        status="delivered",
        delivered_at=datetime.now(UTC),
    )
    session.add(milestone)
    await session.flush()
    if not invoiced:
        return Billed(uuid.uuid4(), "", milestone.id, worker.id, 0)
    service = PaymentsService(UnitOfWork(session), settings)
    line = invoicing.Line("Tout", 1, amount_ht_minor, vat_rate_bp)
    invoice = await service._issue(kind="invoice", quote=quote, milestone=milestone, lines=[line])
    payment_id = uuid.uuid4()
    intent_id = f"pi_{payment_id.hex[:24]}"
    payment = Payment(
        id=payment_id,
        invoice_id=invoice.id,
        amount_minor=invoice.total_ttc_minor,
        currency="EUR",
        idempotency_key=f"coop-payment-{payment_id}",
        payment_intent_id=intent_id,
        status="processing",
    )
    session.add(payment)
    await session.flush()
    return Billed(payment.id, intent_id, milestone.id, worker.id, invoice.total_ttc_minor)
