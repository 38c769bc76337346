"""Dependencies of the training-paths feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.training.service import TrainingService


async def provide_training_service(unit_of_work: NamedDependency[UnitOfWork]) -> TrainingService:
    return TrainingService(unit_of_work)


dependencies = {"trainings": Provide(provide_training_service)}
