"""Dependencies of the skills-from-a-CV feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.cv.service import CvService
from app.db.transaction import UnitOfWork


async def provide_cv_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> CvService:
    # `cv_keeper` is the vault's hook (see CvKeeper); absent until the vault registers one in app.state.
    return CvService(unit_of_work, max_bytes=state.settings.cv_max_bytes, keeper=state.get("cv_keeper"))


dependencies = {"cvs": Provide(provide_cv_service)}
