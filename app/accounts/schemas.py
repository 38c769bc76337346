"""Request and response bodies of the accounts feature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.core.schemas import Address, EmailText, Input, Name, PasswordText, ShortText, TokenText


class OrganisationInput(Input):
    legal_name: ShortText
    # In France the SIREN (9 digits) or SIRET (14), checked; "RCS Lyon 812 345 676" works too.
    registration_number: ShortText
    billing_address: Address
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")] = "FR"


class RegisterInput(Input):
    email: EmailText
    password: PasswordText
    display_name: Name
    role: Literal["member", "client"] = "member"
    organisation: OrganisationInput | None = None


class SignInInput(Input):
    email: EmailText
    password: PasswordText


class RefreshInput(Input):
    refresh_token: TokenText


class TokenInput(Input):
    token: TokenText


class EmailInput(Input):
    email: EmailText


class ResetPasswordInput(Input):
    token: TokenText
    new_password: PasswordText


class ProfileUpdateInput(Input):
    display_name: Name


class MemberStatusInput(Input):
    status: Literal["applicant", "member", "departed"]


class TokenPair(msgspec.Struct, kw_only=True):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class OrganisationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    legal_name: str
    registration_number: str
    billing_address: str
    country: str
    siren: str | None
    verified: bool
    verified_at: datetime | None


class AccountOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    display_name: str
    role: str
    member_status: str | None
    email_verified: bool
    client_organisation_id: uuid.UUID | None
    created_at: datetime


class Accepted(msgspec.Struct, kw_only=True):
    detail: str


class OidcStart(msgspec.Struct, kw_only=True):
    authorization_url: str
    state: str


class OidcProviderOut(msgspec.Struct, kw_only=True):
    name: str
    issuer: str
    start_url: str
