"""Dependencies of the payments feature: the service, with the process's payment gateway."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.payments.payouts import PayoutsService
from app.payments.reports import ReportsService
from app.payments.service import PaymentsService


async def provide_payments_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> PaymentsService:
    return PaymentsService(unit_of_work, state.settings, state.get("payments_gateway"))


async def provide_payouts_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> PayoutsService:
    # IBANs and holders' names are sealed under the members' data keys (app.core.sealing).
    return PayoutsService(unit_of_work, state.settings, state.vault_master_keys)


async def provide_reports_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> ReportsService:
    return ReportsService(unit_of_work, state.get("payments_gateway"))


dependencies = {
    "payments": Provide(provide_payments_service),
    "payouts": Provide(provide_payouts_service),
    "reports": Provide(provide_reports_service),
}
