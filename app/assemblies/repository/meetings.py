"""Assemblies and their attendance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.assemblies.repository.base import RepositoryBase
from app.models import (
    Assembly,
    Attendance,
    Proposal,
)


class AssemblyQueries(RepositoryBase):
    """Assemblies (general meetings) and who attends them."""

    # -- assemblies -----------------------------------------------------------------------------------------

    async def get_assembly(self, assembly_id: uuid.UUID, *, lock: bool = False) -> Assembly | None:
        query = select(Assembly).where(Assembly.id == assembly_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def list_assemblies(self, *, limit: int, offset: int) -> tuple[Sequence[Assembly], int]:
        rows = await self.session.scalars(
            select(Assembly).order_by(Assembly.scheduled_at.desc(), Assembly.id).limit(limit).offset(offset)  # type: ignore[attr-defined]
        )
        total = await self.session.scalar(select(func.count()).select_from(Assembly))
        return rows.all(), int(total or 0)

    async def agenda(self, assembly_id: uuid.UUID, *, lock: bool = False, fresh: bool = False) -> Sequence[Proposal]:
        query = (
            select(Proposal)
            .where(Proposal.assembly_id == assembly_id)
            .order_by(Proposal.agenda_position, Proposal.created_at)
        )
        if lock:
            query = query.with_for_update()
        if lock or fresh:
            query = query.execution_options(populate_existing=True)
        return (await self.session.scalars(query)).all()

    async def agenda_ids(self, assembly_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        out: dict[uuid.UUID, list[uuid.UUID]] = {a: [] for a in assembly_ids}
        if not assembly_ids:
            return out
        rows = await self.session.execute(
            select(Proposal.assembly_id, Proposal.id)
            .where(Proposal.assembly_id.in_(assembly_ids))  # type: ignore[union-attr]
            .order_by(Proposal.agenda_position, Proposal.created_at)
        )
        for assembly_id, proposal_id in rows:
            out[assembly_id].append(proposal_id)
        return out

    async def next_planned_assembly(self) -> Assembly | None:
        return await self.session.scalar(
            select(Assembly)
            .where(Assembly.state == "planned", Assembly.scheduled_at > func.now())
            .order_by(Assembly.scheduled_at)
            .limit(1)
            .with_for_update()
        )

    async def qualified_initiatives(self) -> Sequence[Proposal]:
        return (
            await self.session.scalars(
                select(Proposal)
                .where(Proposal.state == "qualified", Proposal.assembly_id.is_(None))  # type: ignore[union-attr]
                .order_by(Proposal.qualified_at)
                .with_for_update()
            )
        ).all()

    async def second_call_of(self, assembly_id: uuid.UUID) -> bool:
        found = await self.session.scalar(select(func.count()).where(Assembly.first_call_id == assembly_id))
        return bool(found)

    async def next_agenda_position(self, assembly_id: uuid.UUID) -> int:
        found = await self.session.scalar(
            select(func.max(Proposal.agenda_position)).where(Proposal.assembly_id == assembly_id)
        )
        return int(found or 0) + 1

    async def due_assemblies(self) -> list[uuid.UUID]:
        """Convened assemblies whose online voting window has begun."""
        rows = await self.session.scalars(
            select(Assembly.id)
            .where(Assembly.state == "convened", Assembly.voting_opens_at <= func.now())  # type: ignore[operator]
            .limit(20)
        )
        return list(rows)

    # -- attendance -----------------------------------------------------------------------------------------

    async def record_attendance(
        self, assembly_id: uuid.UUID, account_id: uuid.UUID, present: bool, by: uuid.UUID
    ) -> None:
        statement = pg_insert(Attendance).values(
            assembly_id=assembly_id, account_id=account_id, present=present, recorded_by=by
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Attendance.assembly_id, Attendance.account_id],
                set_={"present": present, "recorded_by": by, "recorded_at": func.now()},
            )
        )

    async def present(self, assembly_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(Attendance.account_id).where(Attendance.assembly_id == assembly_id, Attendance.present)
        )
        return set(rows)
