"""Request and response bodies of the skills-from-a-CV feature."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile

from app.core.schemas import Input


@dataclass
class CvUpload:
    """The multipart form: `file` is the CV; `keep_file` asks to keep it in the member's vault."""

    file: UploadFile
    keep_file: bool = False


class DecisionInput(Input, kw_only=True):
    decision: Literal["accept", "reject"]
    level: Annotated[int, msgspec.Meta(ge=1, le=5, description="Override the suggested level")] | None = None
    years: Annotated[int, msgspec.Meta(ge=0, le=60, description="Override the years read in the CV")] | None = None


class SkillRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    name: str
    category: str


class EvidenceOut(msgspec.Struct, kw_only=True):
    sentence: str
    matched: list[str]
    match_kind: Literal["name", "alias", "term", "fuzzy", "context"]


class SuggestionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    skill: SkillRef
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)]
    evidence: EvidenceOut
    years: int | None
    suggested_level: int
    decision: Literal["pending", "accepted", "rejected"]
    decided_at: datetime | None


class ExtractionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    file_kind: Literal["pdf", "docx", "odt", "text"]
    file_bytes: int
    characters: int
    language: str
    created_at: datetime
    suggestions: list[SuggestionOut]
