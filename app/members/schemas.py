"""Request and response bodies of the members feature: profiles and the skills référentiel."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from app.core.schemas import MULTI_LINE, SINGLE_LINE, EmailText, Input, Name, ShortText

Level = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 notions, 2 practised, 3 autonomous, 4 expert, 5 leader")]
Years = Annotated[int, msgspec.Meta(ge=0, le=60)]
MinorUnits = Annotated[int, msgspec.Meta(ge=0, le=100_000_000, description="Integer minor units (cents)")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]
Url = Annotated[str, msgspec.Meta(min_length=10, max_length=500, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$")]
LongText = Annotated[str, msgspec.Meta(max_length=5000, pattern=MULTI_LINE)]
PostalCode = Annotated[str, msgspec.Meta(max_length=16, pattern=r"^[A-Za-z0-9 -]*$")]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^\+?[0-9 .()-]+$")]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
WorkModeText = Literal["on_site", "remote", "hybrid"]
VisibilityText = Literal["public", "members", "hidden"]
SkillTerm = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=SINGLE_LINE)]


class ProfileSkillInput(Input, kw_only=True):
    skill_id: uuid.UUID
    level: Level
    years: Years = 0


class LanguageInput(Input, kw_only=True):
    code: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$", description="ISO 639 code")]
    level: Literal["A1", "A2", "B1", "B2", "C1", "C2", "native"]


class LinkInput(Input, kw_only=True):
    kind: Literal["portfolio", "repository", "linkedin", "mastodon", "website", "other"]
    url: Url


class AvailabilityInput(Input, kw_only=True):
    starts_on: date
    ends_on: date
    share_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] = 100


class ProfileInput(Input, kw_only=True):
    """The whole profile; PUT replaces it (skills attested by reviews are kept)."""

    display_name: Name
    headline: ShortText
    bio: LongText = ""
    photo_url: Url | None = None
    skills: Annotated[list[ProfileSkillInput], msgspec.Meta(max_length=50)] = []
    languages: Annotated[list[LanguageInput], msgspec.Meta(max_length=12)] = []
    day_rate_min_minor: MinorUnits
    day_rate_max_minor: MinorUnits
    currency: Currency = "EUR"
    available_from: date | None = None
    availability: Annotated[list[AvailabilityInput], msgspec.Meta(max_length=24)] = []
    city: Name
    postal_code: PostalCode = ""
    region: Name
    country: Country = "FR"
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    # Only the centre of this grid cell is kept and used (never the point given above).
    location_precision: Literal["commune", "departement", "none"] = "commune"
    work_mode: WorkModeText
    travel_km: Annotated[int, msgspec.Meta(ge=0, le=20_000)] = 0
    links: Annotated[list[LinkInput], msgspec.Meta(max_length=10)] = []
    contact_email: EmailText | None = None
    contact_phone: Phone | None = None
    visibility: VisibilityText = "members"


class SkillProposalInput(Input, kw_only=True):
    name: SkillTerm
    aliases: Annotated[list[SkillTerm], msgspec.Meta(max_length=10)] = []
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=SINGLE_LINE)] = "Proposed"


class SkillMergeInput(Input, kw_only=True):
    into_skill_id: uuid.UUID


class SkillOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    name: str
    aliases: list[str]
    category: str
    esco_uri: str | None
    status: str
    merged_into_id: uuid.UUID | None


class AttestationOut(msgspec.Struct, kw_only=True):
    mission_id: uuid.UUID
    mission_title: str
    attested_at: datetime


class ProfileSkillOut(msgspec.Struct, kw_only=True):
    skill_id: uuid.UUID
    slug: str
    name: str
    esco_uri: str | None
    level: int
    years: int
    provenance: Literal["declared", "attested", "from_cv", "trained"]
    attestations: list[AttestationOut]


class LanguageOut(msgspec.Struct, kw_only=True):
    code: str
    level: str


class LinkOut(msgspec.Struct, kw_only=True):
    kind: str
    url: str


class AvailabilityOut(msgspec.Struct, kw_only=True):
    starts_on: date
    ends_on: date
    share_percent: int


class ContactOut(msgspec.Struct, kw_only=True):
    """Only ever shown to the member and to administrators."""

    email: str | None
    phone: str | None
    latitude: float | None
    longitude: float | None


class RatingOut(msgspec.Struct, kw_only=True):
    average: float | None
    count: int


class ProfileOut(msgspec.Struct, kw_only=True):
    account_id: uuid.UUID
    display_name: str
    headline: str
    bio: str
    photo_url: str | None
    skills: list[ProfileSkillOut]
    languages: list[LanguageOut]
    day_rate_min_minor: int
    day_rate_max_minor: int
    currency: str
    available_from: date | None
    availability: list[AvailabilityOut]
    city: str
    postal_code: str
    region: str
    country: str
    location_precision: str
    work_mode: str
    travel_km: int
    links: list[LinkOut]
    visibility: str
    published: bool
    published_at: datetime | None
    rating: RatingOut
    contact: ContactOut | None
    updated_at: datetime


class SkillBrief(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    level: int
    attested: bool


class ProfileSummaryOut(msgspec.Struct, kw_only=True):
    account_id: uuid.UUID
    display_name: str
    headline: str
    city: str
    region: str
    country: str
    work_mode: str
    day_rate_min_minor: int
    day_rate_max_minor: int
    currency: str
    available_from: date | None
    skills: list[SkillBrief]
    relevance: float | None
    # A band ("10-25 km"), never a figure: see docs/marketplace.md on location privacy.
    distance_band: str | None
