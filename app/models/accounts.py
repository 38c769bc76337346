"""Tables of the accounts feature: people, client organisations, sessions and one-time tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class Role(StrEnum):
    MEMBER = "member"
    CLIENT = "client"
    ADMIN = "admin"


class MemberStatus(StrEnum):
    """An associate freelancer's standing in the cooperative."""

    APPLICANT = "applicant"
    MEMBER = "member"
    DEPARTED = "departed"


class EmailTokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


class ClientOrganisation(SQLModel, table=True):
    __tablename__ = "client_organisation"

    id: uuid.UUID = uuid_pk()
    legal_name: str = Field(sa_type=String(200))
    registration_number: str = Field(sa_type=String(64))
    billing_address: str = Field(sa_type=String(500))
    country: str = Field(default="FR", sa_type=String(2), sa_column_kwargs={"server_default": "FR"})
    # French organisations: the SIREN (9 digits, check digit verified) read from the registration number.
    siren: str | None = Field(default=None, sa_type=String(9), index=True)
    # Set by an administrator who checked the organisation exists and the person acts for it; until
    # then its missions are listed to admitted members only (docs/marketplace.md).
    verified_at: datetime | None = timestamp(nullable=True)
    verified_by_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)


class Account(SQLModel, table=True):
    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint("role in ('member', 'client', 'admin')", name="role_known"),
        CheckConstraint("(role = 'member') = (member_status is not null)", name="member_status_only_for_members"),
        CheckConstraint("(role = 'client') = (client_organisation_id is not null)", name="client_has_organisation"),
    )

    id: uuid.UUID = uuid_pk()
    email: str = Field(sa_type=String(254), unique=True)
    # UTS #39 skeleton of the address (app/accounts/addresses.py): two accounts never look alike.
    email_skeleton: str | None = Field(default=None, sa_type=String(1024), unique=True)
    display_name: str = Field(sa_type=String(120))
    password_hash: str | None = Field(default=None, sa_type=String(200))
    role: str = Field(sa_type=String(16))
    member_status: str | None = Field(default=None, sa_type=String(16))
    client_organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="client_organisation.id", ondelete="RESTRICT", index=True
    )
    email_verified_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp(server_now=True)
    disabled_at: datetime | None = timestamp(nullable=True)


class AuthSession(SQLModel, table=True):
    """A signed-in device: the family of refresh tokens issued since one sign-in."""

    __tablename__ = "auth_session"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    created_at: datetime = timestamp(server_now=True)
    # Absolute lifetime: rotating refresh tokens never extends a session beyond it.
    expires_at: datetime = timestamp()
    revoked_at: datetime | None = timestamp(nullable=True)
    revoked_reason: str | None = Field(default=None, sa_type=String(32))


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: uuid.UUID = uuid_pk()
    session_id: uuid.UUID = Field(foreign_key="auth_session.id", ondelete="CASCADE", index=True)
    token_hash: bytes = Field(sa_type=LargeBinary(32), unique=True)
    created_at: datetime = timestamp(server_now=True)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)


class EmailToken(SQLModel, table=True):
    """Single-use, expiring token mailed to prove control of an address or to reset a password."""

    __tablename__ = "email_token"
    __table_args__ = (CheckConstraint("purpose in ('verify_email', 'reset_password')", name="purpose_known"),)

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    purpose: str = Field(sa_type=String(32))
    token_hash: bytes = Field(sa_type=LargeBinary(32), unique=True)
    created_at: datetime = timestamp(server_now=True)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)


class OidcIdentity(SQLModel, table=True):
    """An account's identity at an OpenID Connect provider (issuer + subject never changes)."""

    __tablename__ = "oidc_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    issuer: str = Field(sa_type=String(500))
    subject: str = Field(sa_type=String(255))
    created_at: datetime = timestamp(server_now=True)


class OidcLoginAttempt(SQLModel, table=True):
    """Server-side state of an authorization-code + PKCE round trip, so any process can finish it."""

    __tablename__ = "oidc_login_attempt"

    state: str = Field(sa_type=String(64), primary_key=True)
    provider: str = Field(sa_type=String(32))
    nonce: str = Field(sa_type=String(64))
    code_verifier: str = Field(sa_type=String(128))
    redirect_uri: str = Field(sa_type=String(500))
    # SHA-256 of a random value kept in an HttpOnly cookie of the browser that started the sign-in,
    # so a callback URL (state + code) is useless in another browser (login CSRF, code interception).
    browser_binding_hash: bytes = Field(sa_type=LargeBinary(32))
    expires_at: datetime = timestamp(index=True)


Index("ix_refresh_token_unused", RefreshToken.session_id, postgresql_where=RefreshToken.used_at.is_(None))  # type: ignore[union-attr]
