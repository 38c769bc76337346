"""All SQL of the training-paths feature: the catalogue, its skills, members' paths and their steps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Skill, Training, TrainingPath, TrainingPathStep, TrainingSkill


class TrainingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # the catalogue

    async def get(self, training_id: uuid.UUID) -> Training | None:
        return await self.session.get(Training, training_id)

    async def by_references(self, references: Sequence[str]) -> dict[str, Training]:
        if not references:
            return {}
        rows = await self.session.scalars(select(Training).where(Training.reference.in_(list(references))))  # type: ignore[attr-defined]
        return {row.reference: row for row in rows}

    async def search(
        self,
        *,
        skill_id: uuid.UUID | None,
        cpf: bool | None,
        format: str | None,
        active_only: bool,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Training], int]:
        conditions = []
        if skill_id is not None:
            conditions.append(
                Training.id.in_(select(TrainingSkill.training_id).where(TrainingSkill.skill_id == skill_id))  # type: ignore[attr-defined]
            )
        if cpf is not None:
            conditions.append(Training.cpf_eligible == cpf)
        if format is not None:
            conditions.append(Training.format == format)
        if active_only:
            conditions.append(Training.active.is_(True))  # type: ignore[attr-defined]
        rows = await self.session.scalars(
            select(Training).where(*conditions).order_by(Training.title, Training.id).limit(limit).offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Training).where(*conditions))
        return rows.all(), int(total or 0)

    async def active(self) -> Sequence[Training]:
        rows = await self.session.scalars(select(Training).where(Training.active.is_(True)).order_by(Training.id))  # type: ignore[attr-defined]
        return rows.all()

    async def skills_of(self, training_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[TrainingSkill, Skill]]]:
        if not training_ids:
            return {}
        rows = await self.session.execute(
            select(TrainingSkill, Skill)
            .join(Skill, Skill.id == TrainingSkill.skill_id)
            .where(TrainingSkill.training_id.in_(list(training_ids)))  # type: ignore[attr-defined]
            .order_by(Skill.name)
        )
        grouped: dict[uuid.UUID, list[tuple[TrainingSkill, Skill]]] = {}
        for taught, skill in rows:
            grouped.setdefault(taught.training_id, []).append((taught, skill))
        return grouped

    async def replace_skills(self, training_id: uuid.UUID, skills: dict[uuid.UUID, int]) -> None:
        await self.session.execute(delete(TrainingSkill).where(TrainingSkill.training_id == training_id))
        self.session.add_all(
            TrainingSkill(training_id=training_id, skill_id=skill_id, level=level) for skill_id, level in skills.items()
        )
        await self.session.flush()

    async def skills_by_slugs(self, slugs: Sequence[str]) -> dict[str, Skill]:
        if not slugs:
            return {}
        rows = await self.session.scalars(select(Skill).where(Skill.slug.in_(list(slugs))))  # type: ignore[attr-defined]
        return {row.slug: row for row in rows}

    # paths

    async def paths(self, member_id: uuid.UUID, limit: int, offset: int) -> tuple[Sequence[TrainingPath], int]:
        rows = await self.session.scalars(
            select(TrainingPath)
            .where(TrainingPath.member_id == member_id)
            .order_by(TrainingPath.created_at.desc(), TrainingPath.id)  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(TrainingPath).where(TrainingPath.member_id == member_id)
        )
        return rows.all(), int(total or 0)

    async def path(self, member_id: uuid.UUID, path_id: uuid.UUID, *, lock: bool = False) -> TrainingPath | None:
        statement = select(TrainingPath).where(TrainingPath.id == path_id, TrainingPath.member_id == member_id)
        if lock:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def steps(self, path_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[TrainingPathStep]]:
        if not path_ids:
            return {}
        rows = await self.session.scalars(
            select(TrainingPathStep)
            .where(TrainingPathStep.path_id.in_(list(path_ids)))  # type: ignore[attr-defined]
            .order_by(TrainingPathStep.position)
        )
        grouped: dict[uuid.UUID, list[TrainingPathStep]] = {}
        for step in rows:
            grouped.setdefault(step.path_id, []).append(step)
        return grouped

    async def trainings_by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Training]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Training).where(Training.id.in_(list(ids))))  # type: ignore[attr-defined]
        return {row.id: row for row in rows}
