"""Dependencies of the notifications feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.notifications.service import NotificationService


async def provide_notification_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> NotificationService:
    return NotificationService(unit_of_work, state.settings, state.mailer)


dependencies = {"notifications": Provide(provide_notification_service)}
