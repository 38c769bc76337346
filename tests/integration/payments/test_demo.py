"""`coop demo`'s payments: a paid, a pending and a refunded milestone and a prepared payout run, loaded
once (tests/integration/platform/test_cli.py runs the whole command)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db.engine import open_database
from app.db.transaction import UnitOfWork
from app.models import Account
from app.payments.demo import load_demo_payments
from app.settings import Settings
from tests.integration.payments import factories


async def test_demo_payments_load_once(database_url: URL, settings: Settings) -> None:
    database = open_database(settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            member = await factories.member(session, "Inès Moreau")
            client = await factories.customer(session)
            admin = Account(email=f"admin.{uuid.uuid4().hex[:8]}@example.org", display_name="Admin", role="admin")
            session.add(admin)
            await session.flush()
            assert await load_demo_payments(UnitOfWork(session), settings, client, member, admin)
            assert not await load_demo_payments(UnitOfWork(session), settings, client, member, admin)
        async with database.sessionmaker() as session:
            kinds = dict(
                (await session.execute(text("select kind, count(*) from ledger_transaction group by kind"))).all()
            )
            assert kinds == {"client_payment": 2, "refund": 1, "escrow_release": 1, "contribution": 1}
            invoices = await session.scalar(text("select count(*) from invoice"))
            runs = (await session.execute(text("select status, total_minor from payout_run"))).all()
            assert invoices == 3 and runs == [("prepared", 108000)]  # 1,200.00 before tax less 10 %
    finally:
        await database.dispose()
