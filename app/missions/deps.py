"""Dependencies of the missions feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.missions.service import MissionService
from app.notifications.service import NotificationService


async def provide_mission_service(
    unit_of_work: NamedDependency[UnitOfWork], notifications: NamedDependency[NotificationService]
) -> MissionService:
    return MissionService(unit_of_work, notifications)


dependencies = {"missions": Provide(provide_mission_service)}
