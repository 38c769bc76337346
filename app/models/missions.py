"""Tables of the missions feature: missions and their seats, the transition log, applications,
engagements, questions and reviews."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Computed, Index, Integer, SmallInteger, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, TSVECTOR
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class MissionStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    STAFFED = "staffed"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class MissionVisibility(StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class BudgetKind(StrEnum):
    FIXED = "fixed"  # budget_amount_minor is the whole price
    DAY_RATE = "day_rate"  # budget_amount_minor is a day rate, times budget_days


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


def mission_search_expression() -> str:
    weighted = [("title", "A"), ("skills_text", "A"), ("description", "B"), ("city", "C"), ("region", "C")]
    parts = [
        f"setweight(to_tsvector('{config}'::regconfig, coop_unaccent(coalesce({column}, ''))), '{weight}')"
        for config in ("french", "english")
        for column, weight in weighted
    ]
    return " || ".join(parts)


class Mission(SQLModel, table=True):
    """Work for one or more members, posted by a client or brought by a member (the referrer)."""

    __tablename__ = "mission"
    __table_args__ = (
        CheckConstraint(
            "status in ('draft', 'open', 'staffed', 'in_progress', 'delivered', 'closed', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("visibility in ('public', 'members')", name="visibility_known"),
        CheckConstraint("work_mode in ('on_site', 'remote', 'hybrid')", name="work_mode_known"),
        CheckConstraint("budget_kind in ('fixed', 'day_rate')", name="budget_kind_known"),
        CheckConstraint("budget_amount_minor >= 0", name="budget_positive"),
        CheckConstraint("budget_kind = 'fixed' or budget_days is not null", name="day_rate_has_days"),
        CheckConstraint("budget_days is null or budget_days between 1 and 1000", name="days_range"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("(latitude is null) = (longitude is null)", name="both_coordinates"),
    )

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    client_organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="client_organisation.id", ondelete="RESTRICT", index=True
    )
    # The member who brought the mission on behalf of their own client; None when a client posted it.
    referrer_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="RESTRICT")
    client_name: str | None = Field(default=None, sa_type=String(200))
    title: str = Field(sa_type=String(200))
    description: str = Field(sa_type=Text)
    budget_kind: str = Field(sa_type=String(16))
    budget_amount_minor: int = Field(sa_type=BigInteger)
    budget_days: int | None = Field(default=None, sa_type=Integer)
    currency: str = Field(default="EUR", sa_type=String(3))
    starts_on: date
    ends_on: date
    city: str = Field(default="", sa_type=String(120))
    postal_code: str = Field(default="", sa_type=String(16))
    region: str = Field(default="", sa_type=String(120), index=True)
    country: str = Field(default="FR", sa_type=String(2))
    latitude: float | None = Field(default=None, sa_type=DOUBLE_PRECISION)
    longitude: float | None = Field(default=None, sa_type=DOUBLE_PRECISION)
    work_mode: str = Field(sa_type=String(16))
    visibility: str = Field(default=MissionVisibility.PUBLIC.value, sa_type=String(16))
    status: str = Field(default=MissionStatus.DRAFT.value, sa_type=String(16))
    delivered_at: datetime | None = timestamp(nullable=True)
    skills_text: str = Field(default="", sa_type=Text)
    search_vector: Any = Field(
        default=None,
        sa_column=Column(TSVECTOR, Computed(mission_search_expression(), persisted=True), nullable=True),
    )
    created_at: datetime = timestamp(server_now=True)
    updated_at: datetime = timestamp(server_now=True)


Index("ix_mission_search_vector", Mission.__table__.c.search_vector, postgresql_using="gin")  # type: ignore[attr-defined]
Index("ix_mission_status_visibility", Mission.status, Mission.visibility, Mission.created_at)


class MissionSeat(SQLModel, table=True):
    """A place on the mission's team (e.g. one back-end developer); filled by one engagement."""

    __tablename__ = "mission_seat"
    __table_args__ = (
        CheckConstraint("day_rate_minor is null or day_rate_minor >= 0", name="rate_positive"),
        CheckConstraint("days is null or days between 1 and 1000", name="days_range"),
    )

    id: uuid.UUID = uuid_pk()
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="CASCADE", index=True)
    position: int = Field(sa_type=SmallInteger)
    title: str = Field(sa_type=String(200))
    day_rate_minor: int | None = Field(default=None, sa_type=BigInteger)
    days: int | None = Field(default=None, sa_type=Integer)


class SeatSkill(SQLModel, table=True):
    __tablename__ = "seat_skill"
    __table_args__ = (CheckConstraint("min_level between 1 and 5", name="level_range"),)

    seat_id: uuid.UUID = Field(foreign_key="mission_seat.id", ondelete="CASCADE", primary_key=True)
    skill_id: uuid.UUID = Field(foreign_key="skill.id", ondelete="RESTRICT", primary_key=True, index=True)
    min_level: int = Field(sa_type=SmallInteger)


class MissionTransition(SQLModel, table=True):
    """The lifecycle log: who moved the mission from which status to which, and when."""

    __tablename__ = "mission_transition"

    id: uuid.UUID = uuid_pk()
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="CASCADE", index=True)
    from_status: str | None = Field(default=None, sa_type=String(16))
    to_status: str = Field(sa_type=String(16))
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    reason: str | None = Field(default=None, sa_type=String(500))
    at: datetime = timestamp(server_now=True)


class Application(SQLModel, table=True):
    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(
            "status in ('submitted', 'shortlisted', 'accepted', 'declined', 'withdrawn')", name="status_known"
        ),
        CheckConstraint("proposed_day_rate_minor >= 0", name="rate_positive"),
    )

    id: uuid.UUID = uuid_pk()
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="CASCADE", index=True)
    seat_id: uuid.UUID = Field(foreign_key="mission_seat.id", ondelete="CASCADE", index=True)
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    message: str = Field(sa_type=Text)
    proposed_day_rate_minor: int = Field(sa_type=BigInteger)
    status: str = Field(default=ApplicationStatus.SUBMITTED.value, sa_type=String(16))
    created_at: datetime = timestamp(server_now=True)
    decided_at: datetime | None = timestamp(nullable=True)


# One live application per member and seat; a withdrawn or declined one may be followed by a new one.
Index(
    "uq_application_live",
    Application.seat_id,
    Application.member_id,
    unique=True,
    postgresql_where=Application.status.in_(["submitted", "shortlisted", "accepted"]),  # type: ignore[attr-defined]
)


class Engagement(SQLModel, table=True):
    """A member on a seat: the accepted application's rate, days and dates."""

    __tablename__ = "engagement"

    id: uuid.UUID = uuid_pk()
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="CASCADE", index=True)
    seat_id: uuid.UUID = Field(foreign_key="mission_seat.id", ondelete="CASCADE", unique=True)
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="RESTRICT", index=True)
    application_id: uuid.UUID = Field(foreign_key="application.id", ondelete="RESTRICT", unique=True)
    day_rate_minor: int = Field(sa_type=BigInteger)
    days: int | None = Field(default=None, sa_type=Integer)
    starts_on: date
    ends_on: date
    created_at: datetime = timestamp(server_now=True)


class MissionQuestion(SQLModel, table=True):
    __tablename__ = "mission_question"

    id: uuid.UUID = uuid_pk()
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="CASCADE", index=True)
    author_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    body: str = Field(sa_type=Text)
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    answered_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp(server_now=True)


class Review(SQLModel, table=True):
    """One participant's review of another after delivery; published with its counterpart (or after 14 days)."""

    __tablename__ = "review"
    __table_args__ = (
        CheckConstraint("rating between 1 and 5", name="rating_range"),
        CheckConstraint("author_id <> subject_id", name="not_self"),
    )

    id: uuid.UUID = uuid_pk()
    mission_id: uuid.UUID = Field(foreign_key="mission.id", ondelete="CASCADE", index=True)
    author_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE")
    subject_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    rating: int = Field(sa_type=SmallInteger)
    text: str = Field(sa_type=Text)
    skills_seen: list[uuid.UUID] = Field(default_factory=list, sa_column=Column(ARRAY(Uuid), nullable=False))
    created_at: datetime = timestamp(server_now=True)
    published_at: datetime | None = timestamp(nullable=True)


Index("uq_review_once", Review.mission_id, Review.author_id, Review.subject_id, unique=True)
