"""Applications, engagements and the questions asked about a mission."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from app.missions.repository.base import LIVE_APPLICATION, RepositoryBase
from app.models import (
    Application,
    Engagement,
    Mission,
    MissionQuestion,
)


class StaffingQueries(RepositoryBase):
    """Applications, engagements, and the questions asked about a mission."""

    # applications and engagements

    async def get_application(self, mission_id: uuid.UUID, application_id: uuid.UUID) -> Application | None:
        return await self.session.scalar(
            select(Application)
            .where(Application.id == application_id, Application.mission_id == mission_id)
            .with_for_update()
        )

    async def applications(self, mission_id: uuid.UUID, member_id: uuid.UUID | None) -> Sequence[Application]:
        query = select(Application).where(Application.mission_id == mission_id)
        if member_id is not None:
            query = query.where(Application.member_id == member_id)
        rows = await self.session.scalars(query.order_by(Application.created_at, Application.id))
        return rows.all()

    async def applications_page(
        self, mission_id: uuid.UUID, member_id: uuid.UUID | None, limit: int, offset: int
    ) -> tuple[Sequence[Application], int]:
        conditions = [Application.mission_id == mission_id]
        if member_id is not None:
            conditions.append(Application.member_id == member_id)
        rows = await self.session.scalars(
            select(Application)
            .where(*conditions)
            .order_by(Application.created_at, Application.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Application).where(*conditions))
        return rows.all(), int(total or 0)

    async def applications_of(
        self, member_id: uuid.UUID, status: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[Application, str]], int]:
        conditions = [Application.member_id == member_id]
        if status is not None:
            conditions.append(Application.status == status)
        rows = await self.session.execute(
            select(Application, Mission.title)
            .join(Mission, Mission.id == Application.mission_id)
            .where(*conditions)
            .order_by(Application.created_at.desc(), Application.id)  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Application).where(*conditions))
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def engagements_of(
        self, member_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Engagement, Mission]], int]:
        rows = await self.session.execute(
            select(Engagement, Mission)
            .join(Mission, Mission.id == Engagement.mission_id)
            .where(Engagement.member_id == member_id)
            .order_by(Engagement.starts_on.desc(), Engagement.id)  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(Engagement).where(Engagement.member_id == member_id)
        )
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def live_application_exists(self, seat_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count())
            .select_from(Application)
            .where(
                Application.seat_id == seat_id,
                Application.member_id == member_id,
                Application.status.in_(LIVE_APPLICATION),  # type: ignore[attr-defined]
            )
        )
        return bool(found)

    async def seat_engagement(self, seat_id: uuid.UUID) -> Engagement | None:
        return await self.session.scalar(select(Engagement).where(Engagement.seat_id == seat_id))

    async def pending_applicants(self, seat_id: uuid.UUID, keep: uuid.UUID) -> list[uuid.UUID]:
        """Members whose application to the seat is still pending (they are declined when it fills)."""
        rows = await self.session.scalars(
            select(Application.member_id).where(
                Application.seat_id == seat_id,
                Application.id != keep,
                Application.status.in_(("submitted", "shortlisted")),  # type: ignore[attr-defined]
            )
        )
        return list(dict.fromkeys(rows.all()))

    async def decline_others(self, seat_id: uuid.UUID, keep: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(Application)
            .where(
                Application.seat_id == seat_id,
                Application.id != keep,
                Application.status.in_(("submitted", "shortlisted")),  # type: ignore[attr-defined]
            )
            .values(status="declined", decided_at=at)
        )

    async def is_engaged(self, mission_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count())
            .select_from(Engagement)
            .where(Engagement.mission_id == mission_id, Engagement.member_id == member_id)
        )
        return bool(found)

    # questions

    async def questions(self, mission_id: uuid.UUID, limit: int, offset: int) -> tuple[Sequence[MissionQuestion], int]:
        condition = MissionQuestion.mission_id == mission_id
        rows = await self.session.scalars(
            select(MissionQuestion)
            .where(condition)
            .order_by(MissionQuestion.created_at, MissionQuestion.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(MissionQuestion).where(condition))
        return rows.all(), int(total or 0)

    async def get_question(self, mission_id: uuid.UUID, question_id: uuid.UUID) -> MissionQuestion | None:
        return await self.session.scalar(
            select(MissionQuestion).where(MissionQuestion.id == question_id, MissionQuestion.mission_id == mission_id)
        )
