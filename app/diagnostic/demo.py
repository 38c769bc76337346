"""The diagnostic part of `coop demo`: the commune of Saint-Flour took the questionnaire (its result is
its own, not yet posted), so the demo shows a draft mission with the answers behind each element."""

from __future__ import annotations

from app.db.transaction import UnitOfWork
from app.diagnostic.service import DiagnosticService
from app.models import Account

ANSWERS = {
    "organisation": ["commune"],
    "existing": ["old_website", "spreadsheets"],
    "goals": ["booking", "dashboard", "staff_training"],
    "budget": ["from_15k_to_40k"],
    "deadline": ["half_year"],
    "place": ["hybrid"],
}


async def load_demo_diagnostic(unit: UnitOfWork, client: Account | None) -> None:
    if client is None:
        return
    service = DiagnosticService(unit)
    if await service.repository.owned_count(client.id):
        return
    await service.take(client, ANSWERS)
