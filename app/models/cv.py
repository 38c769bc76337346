"""Tables of the skills-from-a-CV feature: one row per analysed CV, one per suggested skill.

The CV file itself is never stored, nor its full text: only, for each suggestion, the sentence that
evidences it (the member's own data, shown back to them and deleted with the extraction).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import timestamp, uuid_pk


class CvFileKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    ODT = "odt"
    TEXT = "text"


class SuggestionDecision(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CvExtraction(SQLModel, table=True):
    """One CV a member uploaded and we read; the file was discarded once its text was extracted."""

    __tablename__ = "cv_extraction"
    __table_args__ = (CheckConstraint("file_kind in ('pdf', 'docx', 'odt', 'text')", name="file_kind_known"),)

    id: uuid.UUID = uuid_pk()
    member_id: uuid.UUID = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    file_kind: str = Field(sa_type=String(8))
    file_bytes: int = Field(sa_type=Integer)
    characters: int = Field(sa_type=Integer)
    language: str = Field(sa_type=String(8))  # "fr", "en" or "mixed": the words the matcher saw most
    created_at: datetime = timestamp(server_now=True)


class CvSuggestion(SQLModel, table=True):
    """A référentiel skill the CV seems to show; the member accepts or rejects it."""

    __tablename__ = "cv_suggestion"
    __table_args__ = (
        UniqueConstraint("extraction_id", "skill_id"),
        CheckConstraint("confidence between 0 and 100", name="confidence_range"),
        CheckConstraint("suggested_level between 1 and 5", name="level_range"),
        CheckConstraint("years is null or years between 0 and 60", name="years_range"),
        CheckConstraint("decision in ('pending', 'accepted', 'rejected')", name="decision_known"),
        CheckConstraint("(decision = 'pending') = (decided_at is null)", name="decided_when"),
    )

    id: uuid.UUID = uuid_pk()
    extraction_id: uuid.UUID = Field(foreign_key="cv_extraction.id", ondelete="CASCADE", index=True)
    skill_id: uuid.UUID = Field(foreign_key="skill.id", ondelete="CASCADE")
    confidence: int = Field(sa_type=SmallInteger)  # percent
    evidence: str = Field(sa_type=Text)  # the CV's sentence, at most 400 characters
    matched: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    match_kind: str = Field(sa_type=String(16))  # name, alias, term, fuzzy, context
    years: int | None = Field(default=None, sa_type=SmallInteger)
    suggested_level: int = Field(sa_type=SmallInteger)
    decision: str = Field(default=SuggestionDecision.PENDING.value, sa_type=String(16))
    decided_at: datetime | None = timestamp(nullable=True)
