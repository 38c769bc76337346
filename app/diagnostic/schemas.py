"""Request and response bodies of the needs diagnostic."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from app.core.schemas import Input, TokenText
from app.missions.schemas import MissionInput

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"^[a-z0-9_-]+$")]


class AnswerOption(msgspec.Struct, kw_only=True):
    id: str
    text: str


class QuestionOut(msgspec.Struct, kw_only=True):
    id: str
    text: str
    kind: Literal["single", "multiple"]
    answers: list[AnswerOption]


class QuestionnaireOut(msgspec.Struct, kw_only=True):
    version: str
    title: str
    intro: str
    questions: list[QuestionOut]


class AnswerInput(Input, kw_only=True):
    question: Identifier
    answers: Annotated[list[Identifier], msgspec.Meta(max_length=20)]


class DiagnosticInput(Input, kw_only=True):
    """Answers to some or all questions; unanswered questions simply draft less."""

    answers: Annotated[list[AnswerInput], msgspec.Meta(max_length=30)]


class ClaimInput(Input, kw_only=True):
    token: TokenText


class SourceOut(msgspec.Struct, kw_only=True):
    rule: str
    question: str
    answer: str
    answer_text: str


class TextElement(msgspec.Struct, kw_only=True):
    value: str
    sources: list[SourceOut]


class DraftSkillOut(msgspec.Struct, kw_only=True):
    skill_id: uuid.UUID
    slug: str
    name: str
    min_level: int
    sources: list[SourceOut]


class DraftSeatOut(msgspec.Struct, kw_only=True):
    title: str
    skills: list[DraftSkillOut]
    sources: list[SourceOut]


class BudgetOut(msgspec.Struct, kw_only=True):
    min_minor: int | None
    max_minor: int | None
    currency: str
    sources: list[SourceOut]


class TimelineOut(msgspec.Struct, kw_only=True):
    starts_on: date
    ends_on: date
    weeks: int
    sources: list[SourceOut]


class DraftOut(msgspec.Struct, kw_only=True):
    title: TextElement
    description: TextElement
    seats: list[DraftSeatOut]
    budget: BudgetOut
    timeline: TimelineOut
    work_mode: TextElement
    rules_fired: list[str]
    # The same draft as a body for POST /api/v1/missions (or .../results/{id}/mission): edit, then post.
    mission: MissionInput


class ResultOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    questionnaire_version: str
    answers: dict[str, list[str]]
    draft: DraftOut
    claimed: bool
    # Shown once, to an anonymous visitor: sign up or in, then POST it to .../results/claim.
    claim_token: str | None = None
    claim_expires_at: datetime | None = None
    mission_id: uuid.UUID | None = None
    created_at: datetime


class PostedOut(msgspec.Struct, kw_only=True):
    result_id: uuid.UUID
    mission_id: uuid.UUID
    mission_status: str
