"""Tables of the vault feature: member data keys, recovery keys, exports, imports, trusted issuers,
data-sharing conventions, partners, grants, consent receipts, partner tokens, the access log, erasures.

Personal data the vault stores itself (imported history, imported credentials) is kept only as
AES-256-GCM ciphertext under the member's data key (`vault_member_key`), which erasure destroys.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class VaultMemberKey(SQLModel, table=True):
    """The member's data key, wrapped (AES-256-GCM) by the master key of `master_version`."""

    __tablename__ = "vault_member_key"

    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    master_version: int = Field(sa_type=Integer)
    wrapped_key: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = timestamp(server_now=True)
    rotated_at: datetime | None = timestamp(nullable=True)


class VaultRecoveryKey(SQLModel, table=True):
    """The public half of the member's recovery key; the private half was shown to them once."""

    __tablename__ = "vault_recovery_key"

    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    public_jwk: dict[str, Any] = Field(sa_type=JSONB)
    created_at: datetime = timestamp(server_now=True)


class VaultExport(SQLModel, table=True):
    """One export the member asked for; the archive is built when it is downloaded."""

    __tablename__ = "vault_export"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    requested_at: datetime = timestamp(server_now=True)
    expires_at: datetime = timestamp()
    downloads: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})


class VaultTrustedIssuer(SQLModel, table=True):
    """Another cooperative whose archives and credentials this one accepts (its public keys only)."""

    __tablename__ = "vault_trusted_issuer"

    id: uuid.UUID = uuid_pk()
    did: str = Field(sa_type=String(300), unique=True)
    name: str = Field(sa_type=String(200))
    jwks: dict[str, Any] = Field(sa_type=JSONB)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)


class VaultImport(SQLModel, table=True):
    """An archive brought in from another cooperative: who it created, from which issuer."""

    __tablename__ = "vault_import"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    issuer: str = Field(sa_type=String(300))
    # The member's id in the archive (`urn:uuid:...`): credentials issued elsewhere name it as subject.
    subject: str = Field(sa_type=String(300))
    manifest_sha256: str = Field(sa_type=String(64))
    imported_at: datetime = timestamp(server_now=True)


class VaultRecord(SQLModel, table=True):
    """A read-only history record brought by an import (one row of one tabular file), encrypted."""

    __tablename__ = "vault_record"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE")
    import_id: uuid.UUID = Field(foreign_key="vault_import.id", ondelete="CASCADE", index=True)
    section: str = Field(sa_type=String(64))
    position: int = Field(sa_type=Integer)
    ciphertext: bytes = Field(sa_type=LargeBinary)


Index("ix_vault_record_member_section", VaultRecord.account_id, VaultRecord.section, VaultRecord.position)


class VaultCredential(SQLModel, table=True):
    """A verifiable credential issued by another cooperative, verified at import, kept as attested."""

    __tablename__ = "vault_credential"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    import_id: uuid.UUID = Field(foreign_key="vault_import.id", ondelete="CASCADE")
    issuer: str = Field(sa_type=String(300))
    kind: str = Field(sa_type=String(32))
    file_name: str = Field(sa_type=String(200))
    ciphertext: bytes = Field(sa_type=LargeBinary)
    verified_at: datetime = timestamp(server_now=True)


class VaultPartner(SQLModel, table=True):
    """An organisation that may read members' data under a convention, with its OAuth client."""

    __tablename__ = "vault_partner"

    id: uuid.UUID = uuid_pk()
    name: str = Field(sa_type=String(200))
    kind: str = Field(sa_type=String(64))
    client_id: str = Field(sa_type=String(64), unique=True)
    client_secret_hash: bytes = Field(sa_type=LargeBinary(32))
    created_at: datetime = timestamp(server_now=True)


class VaultConvention(SQLModel, table=True):
    """A data-sharing convention with a partner: what data, why, for how long, on which promises."""

    __tablename__ = "vault_convention"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("retention_days between 1 and 3650", name="retention_range"),
    )

    id: uuid.UUID = uuid_pk()
    partner_id: uuid.UUID = Field(foreign_key="vault_partner.id", ondelete="RESTRICT", index=True)
    title: str = Field(sa_type=String(200))
    categories: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    purpose: str = Field(sa_type=Text)
    legal_basis: str = Field(sa_type=String(64))
    retention_days: int = Field(sa_type=Integer)
    engagements: dict[str, Any] = Field(sa_type=JSONB)
    starts_on: date
    ends_on: date
    created_by: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)


class VaultGrant(SQLModel, table=True):
    """A member's consent: a partner may read these scopes of their vault under a convention, until a date."""

    __tablename__ = "vault_grant"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    convention_id: uuid.UUID = Field(foreign_key="vault_convention.id", ondelete="RESTRICT", index=True)
    scopes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    expires_at: datetime = timestamp()
    created_at: datetime = timestamp(server_now=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class VaultConsentReceipt(SQLModel, table=True):
    """A consent receipt (ISO/IEC TS 27560 fields) for each grant and each revocation."""

    __tablename__ = "vault_consent_receipt"

    id: uuid.UUID = uuid_pk()
    grant_id: uuid.UUID = Field(foreign_key="vault_grant.id", ondelete="CASCADE", index=True)
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    event: str = Field(sa_type=String(16))
    receipt: dict[str, Any] = Field(sa_type=JSONB)
    created_at: datetime = timestamp(server_now=True)


class VaultPartnerToken(SQLModel, table=True):
    """An OAuth 2.0 access token issued to a partner (client credentials); only its hash is kept."""

    __tablename__ = "vault_partner_token"

    id: uuid.UUID = uuid_pk()
    token_hash: bytes = Field(sa_type=LargeBinary(32), unique=True)
    partner_id: uuid.UUID = Field(foreign_key="vault_partner.id", ondelete="CASCADE", index=True)
    convention_id: uuid.UUID = Field(foreign_key="vault_convention.id", ondelete="CASCADE")
    scopes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    created_at: datetime = timestamp(server_now=True)
    expires_at: datetime = timestamp()


class VaultAccessLog(SQLModel, table=True):
    """Who read what of a member's vault, and when: shown to the member."""

    __tablename__ = "vault_access_log"

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE")
    at: datetime = timestamp(server_now=True)
    actor_kind: str = Field(sa_type=String(16))
    actor_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = Field(default=None, foreign_key="vault_partner.id", ondelete="SET NULL")
    action: str = Field(sa_type=String(64))
    detail: str = Field(default="", sa_type=String(300))


Index("ix_vault_access_log_member_at", VaultAccessLog.account_id, VaultAccessLog.at)


class VaultErasure(SQLModel, table=True):
    """The certificate of an erasure; it names the member only by a pseudonym."""

    __tablename__ = "vault_erasure"

    id: uuid.UUID = uuid_pk()
    pseudonym: str = Field(sa_type=String(64), index=True)
    certificate: dict[str, Any] = Field(sa_type=JSONB)
    erased_at: datetime = timestamp(server_now=True)
