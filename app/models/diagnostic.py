"""Tables of the needs diagnostic: one row per questionnaire taken, with its answers and draft mission.

An anonymous visitor's result carries the hash of a claim token (the token itself is shown once);
signing up or in and presenting it makes the result the account's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class DiagnosticResult(SQLModel, table=True):
    __tablename__ = "diagnostic_result"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="account.id", ondelete="CASCADE", index=True)
    questionnaire_version: str = Field(sa_type=String(40))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    claim_token_hash: str | None = Field(default=None, sa_type=String(64), unique=True)
    claim_expires_at: datetime | None = timestamp(nullable=True)
    claimed_at: datetime | None = timestamp(nullable=True)
    mission_id: uuid.UUID | None = Field(default=None, foreign_key="mission.id", ondelete="SET NULL")
    created_at: datetime = timestamp(server_now=True)
