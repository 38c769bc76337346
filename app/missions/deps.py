"""Dependencies of the missions feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.missions.service import MissionService
from app.notifications.service import NotificationService


async def provide_mission_service(
    unit_of_work: NamedDependency[UnitOfWork], notifications: NamedDependency[NotificationService], state: State
) -> MissionService:
    # The members' data keys seal applications' messages (app.core.sealing; the vault destroys them on erasure).
    return MissionService(unit_of_work, notifications, state.vault_master_keys)


dependencies = {"missions": Provide(provide_mission_service)}
