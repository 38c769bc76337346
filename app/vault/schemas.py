"""Request and response bodies of the vault's HTTP API (strict: unknown fields are errors)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from app.core.schemas import SINGLE_LINE, Input, Name, PasswordText, ShortText

Scope = Literal[
    "profile", "skills", "engagements", "reviews_received", "applications", "assembly_participation", "credentials"
]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
# Checked further by the service (a did:web, a 32-byte key): the schema only bounds the text.
Did = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=SINGLE_LINE)]


class ExportOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    requested_at: datetime
    expires_at: datetime
    downloads: int
    download_url: str


class RecoveryKeyOut(msgspec.Struct, kw_only=True):
    public_jwk: dict[str, Any]
    created_at: datetime
    # Shown once, at creation: the cooperative keeps only the public half.
    private_key_pem: str | None = None


class ImportOut(msgspec.Struct, kw_only=True):
    account_id: uuid.UUID
    email: str
    issuer: str
    member_status: str
    records: dict[str, int]
    credentials: int
    skills_not_found: list[str]
    next_step: str = "A password-reset mail was sent: follow it to choose your password."


class JwkInput(Input, kw_only=True):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
    kid: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class TrustedIssuerInput(Input, kw_only=True):
    did: Did
    name: Name
    keys: Annotated[list[JwkInput], msgspec.Meta(max_length=10)]


class TrustedIssuerOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    did: str
    name: str
    keys: list[dict[str, Any]]
    created_at: datetime


class CredentialOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    issuer: str
    kind: str
    file_name: str
    verified_at: datetime


class AccessLogOut(msgspec.Struct, kw_only=True):
    at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None
    partner_name: str | None
    action: str
    detail: str


class PartnerInput(Input, kw_only=True):
    name: Name
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=SINGLE_LINE)]


class PartnerOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: str
    client_id: str
    created_at: datetime
    # Shown once, at creation.
    client_secret: str | None = None


class EngagementsInput(Input, kw_only=True):
    no_resale: bool
    deletion_at_end: bool
    hosting: ShortText
    other: Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")] = ""


class ConventionInput(Input, kw_only=True):
    partner_id: uuid.UUID
    title: ShortText
    categories: Annotated[list[Scope], msgspec.Meta(max_length=7)]
    purpose: LongText
    legal_basis: Literal["consent", "contract", "legitimate_interest", "public_task"] = "consent"
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)]
    engagements: EngagementsInput
    starts_on: date
    ends_on: date


class ConventionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    partner: PartnerOut
    title: str
    categories: list[str]
    purpose: str
    legal_basis: str
    retention_days: int
    engagements: dict[str, Any]
    starts_on: date
    ends_on: date
    created_at: datetime


class GrantInput(Input, kw_only=True):
    convention_id: uuid.UUID
    scopes: Annotated[list[Scope], msgspec.Meta(max_length=7)]
    expires_at: datetime


class GrantOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    convention_id: uuid.UUID
    scopes: list[str]
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None
    receipt: dict[str, Any] | None = None


class ReceiptOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    grant_id: uuid.UUID
    event: str
    receipt: dict[str, Any]
    created_at: datetime


class ErasureOut(msgspec.Struct, kw_only=True):
    certificate: dict[str, Any]


class ErasureConfirmationInput(Input, kw_only=True):
    password: PasswordText


class ErasureConfirmationOut(msgspec.Struct, kw_only=True):
    confirmation: str
    expires_at: datetime


class ErasureInput(Input, kw_only=True):
    confirmation: Annotated[str, msgspec.Meta(min_length=16, max_length=2000, pattern=r"^[A-Za-z0-9_.-]+$")]
