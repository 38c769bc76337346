"""Rules of the skills-from-a-CV feature: read an uploaded CV once, suggest skills, apply the member's decisions.

The file's bytes live only for the duration of the request: they are read, the text extracted
(app/cv/extract.py, in a worker thread) and matched (app/cv/matcher.py), then dropped. Only the
suggestions and their evidence sentences are stored. Keeping the file is the vault's business: see
`CvKeeper` (the extension point) in docs/seed-services.md. Nothing here knows about HTTP; nothing
here commits. Accepted skills reach the profile through the members feature (`MemberService.add_skill`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Protocol

import anyio

from app.core.errors import AppError, Conflict, NotFound
from app.cv.extract import CvRefused, Extracted, Limits, extract
from app.cv.matcher import Lexicon, SkillEntry, Suggestion, build_lexicon, language, match
from app.cv.repository import CvRepository
from app.db.transaction import UnitOfWork
from app.members.service import MemberService
from app.models import Account, CvExtraction, CvSuggestion, Skill, SkillOrigin, SuggestionDecision


class CvTooLarge(AppError):
    status_code = 413
    slug = "cv-too-large"
    title = "The CV file is larger than the cooperative reads"


class CvUnsupported(AppError):
    status_code = 415
    slug = "cv-unsupported-type"
    title = "The file is not a PDF, DOCX, ODT or UTF-8 text CV"


class CvUnreadable(AppError):
    status_code = 422
    slug = "cv-unreadable"
    title = "The CV could not be read"


class CvMacros(AppError):
    status_code = 422
    slug = "cv-macros-refused"
    title = "Documents with macros are refused"


class CvBomb(AppError):
    status_code = 422
    slug = "cv-limits-exceeded"
    title = "The file exceeds what a CV may cost to read (a decompression bomb?)"


_REFUSALS: dict[str, type[AppError]] = {
    "unsupported": CvUnsupported,
    "malformed": CvUnreadable,
    "no-text": CvUnreadable,
    "macros": CvMacros,
    "bomb": CvBomb,
}


class CvKeeper(Protocol):
    """Where a member's CV file goes when they ask to keep it: the vault, once it exists on main.

    Called after the extraction is stored, with the bytes still in memory; until a keeper is wired
    the file is simply discarded (the `keep_file` request flag is then refused).
    """

    async def keep(self, member_id: uuid.UUID, extraction_id: uuid.UUID, content: bytes, kind: str) -> None: ...


@dataclass(frozen=True)
class ExtractionView:
    extraction: CvExtraction
    suggestions: list[tuple[CvSuggestion, Skill]]
    pages: int | None = None


class _LexiconCache:
    """The matcher's lexicon, rebuilt only when the référentiel's terms change."""

    fingerprint: ClassVar[str | None] = None
    lexicon: ClassVar[Lexicon | None] = None

    @classmethod
    def get(cls, skills: Sequence[Skill]) -> Lexicon:
        digest = hashlib.sha256()
        for skill in skills:
            digest.update(f"{skill.slug}\x1f{skill.name}\x1f{'|'.join(skill.aliases)}\x1f{skill.category}\x1e".encode())
        fingerprint = digest.hexdigest()
        if cls.lexicon is None or cls.fingerprint != fingerprint:
            cls.lexicon = build_lexicon(SkillEntry(s.slug, s.name, tuple(s.aliases), s.category) for s in skills)
            cls.fingerprint = fingerprint
        return cls.lexicon


class CvService:
    def __init__(self, unit_of_work: UnitOfWork, *, max_bytes: int, keeper: CvKeeper | None = None) -> None:
        self.repository = CvRepository(unit_of_work.session)
        self.members = MemberService(unit_of_work)
        self.max_bytes = max_bytes
        self.keeper = keeper

    async def analyse(self, member: Account, content: bytes, *, keep_file: bool = False) -> ExtractionView:
        """Read the CV, store its suggestions, forget the file. A refused file leaves no row behind."""
        if keep_file and self.keeper is None:
            raise Conflict("Keeping the CV needs the member's vault, which this cooperative has not enabled yet.")
        if len(content) > self.max_bytes:
            raise CvTooLarge(f"A CV file is at most {self.max_bytes // 1024} KiB.")
        if not content:
            raise CvUnsupported("The file is empty.")
        extracted = await anyio.to_thread.run_sync(_read, content)
        skills = await self.repository.matchable_skills()
        found = match(extracted.text, _LexiconCache.get(skills))
        by_slug = {skill.slug: skill for skill in skills}
        by_id = {skill.id: skill for skill in skills}
        extraction = CvExtraction(
            member_id=member.id,
            file_kind=extracted.kind.value,
            file_bytes=len(content),
            characters=len(extracted.text),
            language=language(extracted.text),
        )
        await self.repository.add(extraction)
        rows = [_suggestion_row(extraction.id, by_slug[s.slug], s) for s in found if s.slug in by_slug]
        await self.repository.add(*rows)
        if keep_file and self.keeper is not None:
            await self.keeper.keep(member.id, extraction.id, content, extracted.kind.value)
        return ExtractionView(extraction, [(row, by_id[row.skill_id]) for row in rows], extracted.pages)

    async def extractions(self, member: Account, limit: int, offset: int) -> tuple[list[ExtractionView], int]:
        rows, total = await self.repository.extractions(member.id, limit, offset)
        suggestions = await self.repository.suggestions([row.id for row in rows])
        return [ExtractionView(row, suggestions.get(row.id, [])) for row in rows], total

    async def get(self, member: Account, extraction_id: uuid.UUID) -> ExtractionView:
        extraction = await self._own(member, extraction_id)
        suggestions = await self.repository.suggestions([extraction.id])
        return ExtractionView(extraction, suggestions.get(extraction.id, []))

    async def forget(self, member: Account, extraction_id: uuid.UUID) -> None:
        """Delete the extraction and its evidence sentences; skills already accepted stay on the profile."""
        await self.repository.delete(await self._own(member, extraction_id))

    async def decide(
        self,
        member: Account,
        extraction_id: uuid.UUID,
        suggestion_id: uuid.UUID,
        *,
        accept: bool,
        level: int | None,
        years: int | None,
    ) -> tuple[CvSuggestion, Skill]:
        extraction = await self._own(member, extraction_id)
        found = await self.repository.suggestion(extraction.id, suggestion_id)
        if found is None:
            raise NotFound()
        suggestion, skill = found
        if suggestion.decision != SuggestionDecision.PENDING:
            raise Conflict(f"This suggestion was already {suggestion.decision}.")
        if accept:
            await self.members.add_skill(
                member.id,
                skill.merged_into_id or skill.id,  # merged since the CV was read: its target
                level=level or suggestion.suggested_level,
                years=years if years is not None else (suggestion.years or 0),
                origin=SkillOrigin.FROM_CV,
            )
        suggestion.decision = (SuggestionDecision.ACCEPTED if accept else SuggestionDecision.REJECTED).value
        suggestion.decided_at = datetime.now(UTC)
        return suggestion, skill

    async def _own(self, member: Account, extraction_id: uuid.UUID) -> CvExtraction:
        extraction = await self.repository.extraction(member.id, extraction_id)
        if extraction is None:
            raise NotFound()
        return extraction


def _read(content: bytes) -> Extracted:
    try:
        return extract(content, Limits())
    except CvRefused as refusal:
        raise _REFUSALS[refusal.reason](refusal.detail) from None


def _suggestion_row(extraction_id: uuid.UUID, skill: Skill, found: Suggestion) -> CvSuggestion:
    return CvSuggestion(
        extraction_id=extraction_id,
        skill_id=skill.id,
        confidence=round(found.confidence * 100),
        evidence=found.sentence,
        matched=found.matched,
        match_kind=found.kind,
        years=found.years,
        suggested_level=found.level,
    )
