"""All SQL of the skills-from-a-CV feature: the référentiel as the matcher reads it, extractions, suggestions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CvExtraction, CvSuggestion, Skill, SkillStatus


class CvRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def matchable_skills(self) -> Sequence[Skill]:
        """Every skill a CV may evidence: the référentiel and members' proposals, merged ones aside."""
        rows = await self.session.scalars(
            select(Skill).where(Skill.status != SkillStatus.MERGED.value).order_by(Skill.slug)
        )
        return rows.all()

    async def extractions(self, member_id: uuid.UUID, limit: int, offset: int) -> tuple[Sequence[CvExtraction], int]:
        rows = await self.session.scalars(
            select(CvExtraction)
            .where(CvExtraction.member_id == member_id)
            .order_by(CvExtraction.created_at.desc(), CvExtraction.id)  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(CvExtraction).where(CvExtraction.member_id == member_id)
        )
        return rows.all(), int(total or 0)

    async def extraction(self, member_id: uuid.UUID, extraction_id: uuid.UUID) -> CvExtraction | None:
        return await self.session.scalar(
            select(CvExtraction).where(CvExtraction.id == extraction_id, CvExtraction.member_id == member_id)
        )

    async def suggestions(
        self, extraction_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[tuple[CvSuggestion, Skill]]]:
        if not extraction_ids:
            return {}
        rows = await self.session.execute(
            select(CvSuggestion, Skill)
            .join(Skill, Skill.id == CvSuggestion.skill_id)
            .where(CvSuggestion.extraction_id.in_(list(extraction_ids)))  # type: ignore[attr-defined]
            .order_by(CvSuggestion.confidence.desc(), Skill.name)  # type: ignore[attr-defined]
        )
        grouped: dict[uuid.UUID, list[tuple[CvSuggestion, Skill]]] = {}
        for suggestion, skill in rows:
            grouped.setdefault(suggestion.extraction_id, []).append((suggestion, skill))
        return grouped

    async def suggestion(self, extraction_id: uuid.UUID, suggestion_id: uuid.UUID) -> tuple[CvSuggestion, Skill] | None:
        row = (
            await self.session.execute(
                select(CvSuggestion, Skill)
                .join(Skill, Skill.id == CvSuggestion.skill_id)
                .where(CvSuggestion.id == suggestion_id, CvSuggestion.extraction_id == extraction_id)
                .with_for_update(of=CvSuggestion)  # type: ignore[arg-type]
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def delete(self, extraction: CvExtraction) -> None:
        await self.session.delete(extraction)
        await self.session.flush()
