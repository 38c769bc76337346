"""Request and response bodies of the missions feature."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from app.core.schemas import MULTI_LINE, SINGLE_LINE, Input, Name, ShortText
from app.members.schemas import Country, Currency, Latitude, Longitude, MinorUnits, PostalCode, WorkModeText

Days = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000, pattern=MULTI_LINE)]
StatusText = Literal["draft", "open", "staffed", "in_progress", "delivered", "closed", "cancelled"]


class SeatSkillInput(Input, kw_only=True):
    skill_id: uuid.UUID
    min_level: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3


class SeatInput(Input, kw_only=True):
    title: ShortText
    skills: Annotated[list[SeatSkillInput], msgspec.Meta(max_length=20)] = []
    day_rate_minor: MinorUnits | None = None
    days: Days | None = None


class MissionInput(Input, kw_only=True):
    """A mission; a client posts it, or a member brings it for their own client (`client_name`)."""

    title: ShortText
    description: Text
    client_name: Name | None = None
    budget_kind: Literal["fixed", "day_rate"] = "fixed"
    budget_amount_minor: MinorUnits
    budget_days: Days | None = None
    currency: Currency = "EUR"
    starts_on: date
    ends_on: date
    city: Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)] = ""
    postal_code: PostalCode = ""
    region: Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)] = ""
    country: Country = "FR"
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    work_mode: WorkModeText = "hybrid"
    visibility: Literal["public", "members"] = "public"
    seats: Annotated[list[SeatInput], msgspec.Meta(max_length=10)] = []


class TransitionInput(Input, kw_only=True):
    to: StatusText
    reason: Annotated[str, msgspec.Meta(max_length=500, pattern=SINGLE_LINE)] | None = None


class ApplicationInput(Input, kw_only=True):
    seat_id: uuid.UUID
    message: Text
    proposed_day_rate_minor: MinorUnits


class QuestionInput(Input, kw_only=True):
    body: Text


class AnswerInput(Input, kw_only=True):
    answer: Text


class ReviewInput(Input, kw_only=True):
    subject_id: uuid.UUID
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    text: Text
    skills_seen: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = []


class PolicyInput(Input, kw_only=True):
    territorial_fairness: Annotated[int, msgspec.Meta(ge=0, le=100)]
    local_radius_km: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50


class SeatSkillOut(msgspec.Struct, kw_only=True):
    skill_id: uuid.UUID
    slug: str
    name: str
    min_level: int


class EngagementOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    seat_id: uuid.UUID
    member_id: uuid.UUID
    # None for a teammate's engagement: rates are between the member, the client side and administrators.
    day_rate_minor: int | None
    days: int | None
    starts_on: date
    ends_on: date


class SeatOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    position: int
    title: str
    skills: list[SeatSkillOut]
    day_rate_minor: int | None
    days: int | None
    filled: bool


class MissionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    description: str
    owner_id: uuid.UUID
    posted_by: Literal["client", "member"]
    referrer_id: uuid.UUID | None
    client_name: str | None
    budget_kind: str
    budget_amount_minor: int
    budget_days: int | None
    currency: str
    starts_on: date
    ends_on: date
    city: str
    postal_code: str
    region: str
    country: str
    work_mode: str
    visibility: str
    # False while a public mission's client organisation awaits an administrator's verification:
    # admitted members see it, anonymous visitors and clients do not yet.
    listed_publicly: bool
    status: str
    seats: list[SeatOut]
    # Only for the owner, administrators and the engaged members.
    engagements: list[EngagementOut] | None
    created_at: datetime
    delivered_at: datetime | None


class MissionSummaryOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    status: str
    visibility: str
    budget_kind: str
    budget_amount_minor: int
    budget_days: int | None
    currency: str
    starts_on: date
    ends_on: date
    city: str
    region: str
    work_mode: str
    seats: int
    open_seats: int
    relevance: float | None


class TransitionOut(msgspec.Struct, kw_only=True):
    from_status: str | None
    to_status: str
    actor_id: uuid.UUID | None
    reason: str | None
    at: datetime


class ApplicationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    mission_id: uuid.UUID
    seat_id: uuid.UUID
    member_id: uuid.UUID
    message: str
    proposed_day_rate_minor: int
    status: str
    created_at: datetime
    decided_at: datetime | None


class MyApplicationOut(msgspec.Struct, kw_only=True):
    application: ApplicationOut
    mission_title: str


class MyEngagementOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    mission_status: str
    seat_id: uuid.UUID
    day_rate_minor: int
    currency: str
    days: int | None
    starts_on: date
    ends_on: date


class QuestionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    mission_id: uuid.UUID
    author_id: uuid.UUID | None
    body: str
    answer: str | None
    answered_at: datetime | None
    created_at: datetime


class ReviewOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    author_id: uuid.UUID
    subject_id: uuid.UUID
    rating: int
    text: str
    skills_seen: list[uuid.UUID]
    created_at: datetime
    published: bool
    published_at: datetime | None


class ScoreOut(msgspec.Struct, kw_only=True):
    total: float
    skill_fit: float
    availability: float
    rate: float
    distance: float
    local: float | None
    distance_band: str | None  # between the member's published point and the mission
    notes: list[str]


class MemberMatchOut(msgspec.Struct, kw_only=True):
    account_id: uuid.UUID
    display_name: str
    headline: str
    city: str
    region: str
    day_rate_min_minor: int
    currency: str
    score: ScoreOut


class SeatMatchesOut(msgspec.Struct, kw_only=True):
    seat_id: uuid.UUID
    seat_title: str
    candidates: list[MemberMatchOut]


class MissionMatchOut(msgspec.Struct, kw_only=True):
    mission_id: uuid.UUID
    seat_id: uuid.UUID
    title: str
    seat_title: str
    city: str
    region: str
    starts_on: date
    ends_on: date
    score: ScoreOut


class PolicyOut(msgspec.Struct, kw_only=True):
    territorial_fairness: int
    local_radius_km: int
    updated_at: datetime
