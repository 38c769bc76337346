"""The training part of `coop demo`: a catalogue, and one member half-way along a path toward the commune
of Saint-Flour's accessibility seat. Idempotent: the catalogue is upserted, the path made once."""

from __future__ import annotations

from pathlib import Path

from app.db.transaction import UnitOfWork
from app.missions.service import MissionService
from app.models import Account, MissionStatus
from app.training.schemas import PathRequest
from app.training.service import TrainingService

CATALOGUE = Path(__file__).resolve().parent / "demo_catalogue.csv"  # also an example of the CSV format
LEARNER = "mael.legoff@demo.coop"
TARGET_MISSION = "Mise en accessibilité (RGAA) du site de la commune"


async def load_demo_training(unit: UnitOfWork, accounts: dict[str, Account]) -> None:
    service = TrainingService(unit)
    await service.import_csv(CATALOGUE.read_text(encoding="utf-8"))
    learner = accounts.get(LEARNER)
    if learner is None or (await service.repository.paths(learner.id, 1, 0))[1]:
        return
    missions = MissionService(unit)
    owner = next((a for email, a in accounts.items() if email.endswith("@mairie-saint-flour.demo")), None)
    if owner is None:
        return
    mine, _, _ = await missions.mine(owner, 100, 0)
    mission = next((m for m in mine if m.title == TARGET_MISSION and m.status == MissionStatus.OPEN), None)
    if mission is None:
        return
    seat = (await missions.repository.seats(mission.id))[0]
    path = await service.follow(learner, PathRequest(mission_id=mission.id, seat_id=seat.id, optimise="duration"))
    if path.path is not None and path.steps and path.steps[0].step is not None:
        await service.mark_done(learner, path.path.id, path.steps[0].step.id)
