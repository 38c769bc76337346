"""Tables of the training-paths feature: the catalogue, its skills, and the paths members follow."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class TrainingFormat(StrEnum):
    ON_SITE = "on_site"
    REMOTE = "remote"
    HYBRID = "hybrid"


class PathStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"


class Training(SQLModel, table=True):
    """One training of the catalogue; `reference` is the administrator's key for CSV re-imports."""

    __tablename__ = "training"
    __table_args__ = (
        CheckConstraint("format in ('on_site', 'remote', 'hybrid')", name="format_known"),
        CheckConstraint("duration_hours between 1 and 5000", name="duration_range"),
        CheckConstraint("cost_minor >= 0", name="cost_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    )

    id: uuid.UUID = uuid_pk()
    reference: str = Field(sa_type=String(60), unique=True)
    title: str = Field(sa_type=String(200))
    provider: str = Field(sa_type=String(200))
    description: str = Field(default="", sa_type=Text)
    duration_hours: int = Field(sa_type=Integer)
    cost_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(default="EUR", sa_type=String(3))
    format: str = Field(sa_type=String(16))
    place: str = Field(default="", sa_type=String(120))
    cpf_eligible: bool = Field(default=False)
    active: bool = Field(default=True)
    created_at: datetime = timestamp(server_now=True)
    updated_at: datetime = timestamp(server_now=True)


class TrainingSkill(SQLModel, table=True):
    """A skill a training teaches, and the level a learner reaches with it."""

    __tablename__ = "training_skill"
    __table_args__ = (CheckConstraint("level between 1 and 5", name="level_range"),)

    training_id: uuid.UUID = Field(foreign_key="training.id", ondelete="CASCADE", primary_key=True)
    skill_id: uuid.UUID = Field(foreign_key="skill.id", ondelete="RESTRICT", primary_key=True, index=True)
    level: int = Field(sa_type=SmallInteger)


class TrainingPath(SQLModel, table=True):
    """A path a member chose to follow toward a target (a mission's seat or a list of skills)."""

    __tablename__ = "training_path"
    __table_args__ = (
        CheckConstraint("status in ('active', 'completed')", name="status_known"),
        CheckConstraint("optimise in ('duration', 'cost')", name="optimise_known"),
    )

    id: uuid.UUID = uuid_pk()
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    mission_id: uuid.UUID | None = Field(default=None, foreign_key="mission.id", ondelete="SET NULL")
    seat_id: uuid.UUID | None = Field(default=None, foreign_key="mission_seat.id", ondelete="SET NULL")
    # [{"skill_id", "level"}]: the target as it was when the path was chosen (the mission may change).
    target: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    # The plan's explanation, skill by skill, as computed when the path was chosen.
    explanation: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    optimise: str = Field(sa_type=String(16))
    method: str = Field(sa_type=String(16))  # exact or greedy
    status: str = Field(default=PathStatus.ACTIVE.value, sa_type=String(16))
    created_at: datetime = timestamp(server_now=True)
    completed_at: datetime | None = timestamp(nullable=True)


class TrainingPathStep(SQLModel, table=True):
    __tablename__ = "training_path_step"
    __table_args__ = (UniqueConstraint("path_id", "position"),)

    id: uuid.UUID = uuid_pk()
    path_id: uuid.UUID = Field(foreign_key="training_path.id", ondelete="CASCADE", index=True)
    position: int = Field(sa_type=SmallInteger)
    training_id: uuid.UUID = Field(foreign_key="training.id", ondelete="RESTRICT")
    done_at: datetime | None = timestamp(nullable=True)
