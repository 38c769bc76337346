"""The payments part of `coop demo`: a mission of the Saint-Flour commune staffed with a demo member,
an accepted quote of three milestones (one paid and released, one invoiced and awaiting payment, one
paid then refunded), the member's IBAN and a payout run prepared by the administrator.

Payments are booked as the webhook worker books them, with made-up PaymentIntent ids: the demo needs
no Stripe account (so `coop payments reconcile` lists them as unknown to Stripe). Idempotent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from app.core.sealing import master_keys_from_settings
from app.db.transaction import UnitOfWork
from app.missions.schemas import MissionInput, SeatInput
from app.missions.service import MissionService
from app.models import Account, Payment
from app.payments.payouts import PayoutsService
from app.payments.schemas import BuyerInput, MilestoneInput, QuoteInput
from app.payments.service import PaymentsService
from app.settings import Settings

TITLE = "Formation des agents à la publication accessible"


async def load_demo_payments(
    unit: UnitOfWork, settings: Settings, client: Account, member: Account, admin: Account
) -> bool:
    # With the master keys, so the demo's application message is sealed like any member's.
    missions = MissionService(unit, master_keys=master_keys_from_settings(settings))
    mine, _, _ = await missions.mine(client, 100, 0)
    if any(mission.title == TITLE for mission in mine):
        return False
    view = await missions.create(
        client,
        MissionInput(
            title=TITLE,
            description="Trois demi-journées de formation des agents, puis un accompagnement à distance.",
            budget_kind="fixed",
            budget_amount_minor=360000,
            budget_days=6,
            starts_on=date(2030, 3, 1),
            ends_on=date(2030, 5, 31),
            city="Saint-Flour",
            postal_code="15100",
            region="Auvergne-Rhône-Alpes",
            work_mode="hybrid",
            seats=[SeatInput(title="Formatrice accessibilité numérique", days=6)],
        ),
    )
    mission = view.mission
    await missions.transition(client, mission.id, "open")
    application = await missions.apply(member, mission.id, view.seats[0][0].id, "Disponible en mars.", 60000)
    await missions.decide(client, mission.id, application.id, "accept")
    engagement = (await missions.repository.engagements(mission.id))[0]

    payments = PaymentsService(unit, settings)
    quote = await payments.propose(
        member,
        engagement.id,
        QuoteInput(
            pricing="day_rate",
            day_rate_minor=60000,
            days=6,
            milestones=[
                MilestoneInput(title="Formation 1", amount_ht_minor=120000, due_on=date(2030, 3, 15)),
                MilestoneInput(title="Formation 2", amount_ht_minor=120000, due_on=date(2030, 4, 15)),
                MilestoneInput(title="Accompagnement", amount_ht_minor=120000, due_on=date(2030, 5, 31)),
            ],
            buyer=BuyerInput(
                name="Commune de Saint-Flour", address="Place d'Armes\n15100 Saint-Flour", registration="21150187900012"
            ),
        ),
    )
    await payments.accept_quote(client, quote.quote.id)
    paid, pending, refunded = quote.milestones
    for milestone in (paid, pending, refunded):
        await payments.deliver(member, milestone.id)
        await payments.issue_invoice(member, milestone.id)
    for milestone in (paid, refunded):
        invoice = await payments.repository.invoice_for_milestone(milestone.id)
        assert invoice is not None
        payment_id = uuid.uuid4()
        payment = Payment(
            id=payment_id,
            invoice_id=invoice.id,
            amount_minor=invoice.total_ttc_minor,
            currency=invoice.currency,
            idempotency_key=f"coop-payment-{payment_id}",
            payment_intent_id=f"pi_demo_{payment_id.hex[:16]}",
        )
        await payments.repository.add(payment)
        await payments.book_payment(payment, datetime.now(UTC))
        if milestone is refunded:
            await payments.book_refund(payment, f"re_demo_{payment_id.hex[:16]}", payment.amount_minor)
    await payments.accept_milestone(client, paid.id)

    payouts = PayoutsService(unit, settings)
    await payouts.save_bank_account(member, member.display_name, "FR7630006000011234567890189", None)
    await payouts.prepare(admin, None)
    return True
