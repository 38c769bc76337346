"""Request and response bodies of the training-paths feature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.core.schemas import MULTI_LINE, SINGLE_LINE, Input, Name, ShortText

Level = Annotated[int, msgspec.Meta(ge=1, le=5)]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Place = Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)]
Description = Annotated[str, msgspec.Meta(max_length=5000, pattern=MULTI_LINE)]
FormatText = Literal["on_site", "remote", "hybrid"]
Optimise = Literal["duration", "cost"]


class TaughtSkillInput(Input, kw_only=True):
    skill_id: uuid.UUID
    level: Level


class TrainingInput(Input, kw_only=True):
    """A catalogue entry; PUT replaces it whole. `cost_minor` in euro cents."""

    reference: Reference
    title: ShortText
    provider: Name
    description: Description = ""
    duration_hours: Annotated[int, msgspec.Meta(ge=1, le=5000)]
    cost_minor: Annotated[int, msgspec.Meta(ge=0, le=100_000_000, description="Euro cents")]
    currency: Literal["EUR"] = "EUR"
    format: FormatText
    place: Place = ""
    cpf_eligible: bool = False
    active: bool = True
    # A training teaching no référentiel skill may be listed; it never enters a path.
    skills: Annotated[list[TaughtSkillInput], msgspec.Meta(max_length=20)] = []


class CatalogueImportInput(Input, kw_only=True):
    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=200_000, pattern=MULTI_LINE)]


class TargetSkillInput(Input, kw_only=True):
    skill_id: uuid.UUID
    level: Level = 3


class PathRequest(Input, kw_only=True):
    """The target: a seat of an open mission (`mission_id` and `seat_id`), or a list of skills."""

    mission_id: uuid.UUID | None = None
    seat_id: uuid.UUID | None = None
    skills: Annotated[list[TargetSkillInput], msgspec.Meta(max_length=30)] = []
    optimise: Optimise


class SkillRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    name: str


class TaughtSkillOut(msgspec.Struct, kw_only=True):
    skill: SkillRef
    level: int


class TrainingOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    reference: str
    title: str
    provider: str
    description: str
    duration_hours: int
    cost_minor: int
    currency: str
    format: str
    place: str
    cpf_eligible: bool
    active: bool
    skills: list[TaughtSkillOut]
    updated_at: datetime


class ImportOut(msgspec.Struct, kw_only=True):
    created: int
    updated: int


class StepOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID | None  # None in a plan not yet followed
    position: int
    training: TrainingOut
    covers: list[str]  # slugs of the gap skills this step closes
    done_at: datetime | None = None


class SkillPlanOut(msgspec.Struct, kw_only=True):
    skill: SkillRef
    current_level: int
    required_level: int
    status: Literal["met", "covered", "uncovered"]
    training_id: uuid.UUID | None
    level_reached: int | None
    explanation: str


class UnlockedSeatOut(msgspec.Struct, kw_only=True):
    mission_id: uuid.UUID
    mission_title: str
    seat_id: uuid.UUID
    seat_title: str


class PlanOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID | None  # None until followed
    status: Literal["planned", "active", "completed"]
    mission_id: uuid.UUID | None
    seat_id: uuid.UUID | None
    optimise: str
    method: Literal["exact", "greedy"]
    total_hours: int
    total_cost_minor: int
    currency: str
    steps: list[StepOut]
    skills: list[SkillPlanOut]
    uncovered: list[str]
    missions_unlocked: list[UnlockedSeatOut]
    created_at: datetime | None = None
