"""Dependencies of the assemblies feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.assemblies.closing import Closer
from app.assemblies.live import Live
from app.assemblies.service import AssemblyService
from app.db.transaction import UnitOfWork


async def provide_assembly_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> AssemblyService:
    return AssemblyService(unit_of_work, state.governance)


async def provide_closer(assemblies: NamedDependency[AssemblyService]) -> Closer:
    return Closer(assemblies)


async def provide_live(state: State) -> Live:
    return state.governance.live


dependencies = {
    "assemblies": Provide(provide_assembly_service),
    "closer": Provide(provide_closer),
    "live": Provide(provide_live),
}
