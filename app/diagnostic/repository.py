"""All SQL of the needs diagnostic: results, their claim tokens, and the skills its rules name."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DiagnosticResult, Skill


class DiagnosticRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def skills_by_slugs(self, slugs: Sequence[str]) -> dict[str, Skill]:
        if not slugs:
            return {}
        rows = await self.session.scalars(select(Skill).where(Skill.slug.in_(list(slugs))))  # type: ignore[attr-defined]
        return {row.slug: row for row in rows}

    async def get(self, result_id: uuid.UUID, *, lock: bool = False) -> DiagnosticResult | None:
        statement = select(DiagnosticResult).where(DiagnosticResult.id == result_id)
        if lock:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def by_claim(self, token_hash: str) -> DiagnosticResult | None:
        return await self.session.scalar(
            select(DiagnosticResult).where(DiagnosticResult.claim_token_hash == token_hash).with_for_update()
        )

    async def owned_count(self, owner_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(DiagnosticResult).where(DiagnosticResult.owner_id == owner_id)
            )
            or 0
        )

    async def purge_unclaimed(self, before: datetime) -> None:
        """Anonymous results whose claim token expired unused: nobody can ever read them again."""
        await self.session.execute(
            delete(DiagnosticResult).where(
                DiagnosticResult.owner_id.is_(None),  # type: ignore[union-attr]
                DiagnosticResult.claim_expires_at < before,  # type: ignore[operator]
            )
        )
