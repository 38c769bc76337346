"""Dependencies of the needs diagnostic, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.diagnostic.service import DiagnosticService


async def provide_diagnostic_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> DiagnosticService:
    return DiagnosticService(unit_of_work, questionnaire_file=state.settings.diagnostic_file)


dependencies = {"diagnostics": Provide(provide_diagnostic_service)}
