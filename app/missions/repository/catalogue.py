"""Missions, their seats and skills, mission search, the lifecycle log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm.attributes import set_committed_value

from app.members.repository import tsquery_sql
from app.missions.repository.base import RepositoryBase
from app.models import (
    Engagement,
    Mission,
    MissionSeat,
    MissionTransition,
    SeatSkill,
    Skill,
)


@dataclass
class MissionFilters:
    visibilities: tuple[str, ...]
    statuses: tuple[str, ...]
    tsquery: str | None = None
    skill_ids: tuple[uuid.UUID, ...] = ()
    region: str | None = None
    work_modes: tuple[str, ...] = ()
    starts_after: date | None = None
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    # Anonymous visitors and clients: a client's mission only once its organisation is verified.
    verified_organisations_only: bool = False


def mission_search_sql(filters: MissionFilters) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"visibilities": list(filters.visibilities), "statuses": list(filters.statuses)}
    where = ["m.visibility = any(:visibilities)", "m.status = any(:statuses)"]
    if filters.verified_organisations_only:
        where.append(
            "(m.client_organisation_id is null or exists (select 1 from client_organisation o"
            " where o.id = m.client_organisation_id and o.verified_at is not null))"
        )
    relevance = "null::real"
    if filters.tsquery:
        params["tsquery"] = filters.tsquery
        where.append(f"m.search_vector @@ {tsquery_sql('tsquery')}")
        relevance = f"ts_rank(m.search_vector, {tsquery_sql('tsquery')})"
    for index, skill_id in enumerate(filters.skill_ids):
        params[f"skill_{index}"] = skill_id
        where.append(
            "exists (select 1 from mission_seat s join seat_skill ss on ss.seat_id = s.id"  # noqa: S608
            f" where s.mission_id = m.id and ss.skill_id = :skill_{index})"
        )
    if filters.region:
        params["region"] = filters.region
        where.append("lower(coop_unaccent(m.region)) = lower(coop_unaccent(:region))")
    if filters.work_modes:
        params["work_modes"] = list(filters.work_modes)
        where.append("m.work_mode = any(:work_modes)")
    if filters.starts_after:
        params["starts_after"] = filters.starts_after
        where.append("m.starts_on >= :starts_after")
    order = {
        "relevance": "relevance desc nulls last, m.created_at desc",
        "recent": "m.created_at desc",
        "starts": "m.starts_on asc",
        "budget": "m.budget_amount_minor desc",
    }[filters.sort]
    params.update(limit=filters.limit, offset=filters.offset)
    sql = (
        "select m.id, m.title, m.status, m.visibility, m.budget_kind, m.budget_amount_minor, m.budget_days,"  # noqa: S608
        " m.currency, m.starts_on, m.ends_on, m.city, m.region, m.work_mode,"
        " (select count(*) from mission_seat s where s.mission_id = m.id) as seats,"
        " (select count(*) from mission_seat s where s.mission_id = m.id"
        "   and not exists (select 1 from engagement e where e.seat_id = s.id)) as open_seats,"
        f" {relevance} as relevance, count(*) over () as total"
        f" from mission m where {' and '.join(where)}"
        f" order by {order}, m.id limit :limit offset :offset"
    )
    return sql, params


class MissionQueries(RepositoryBase):
    """Missions, seats and their skills, search, and the lifecycle log."""

    # missions and seats

    async def get(self, mission_id: uuid.UUID, *, lock: bool = False) -> Mission | None:
        if lock:
            return await self.session.scalar(select(Mission).where(Mission.id == mission_id).with_for_update())
        return await self.session.get(Mission, mission_id)

    async def seats(self, mission_id: uuid.UUID) -> Sequence[MissionSeat]:
        rows = await self.session.scalars(
            select(MissionSeat).where(MissionSeat.mission_id == mission_id).order_by(MissionSeat.position)
        )
        return rows.all()

    async def seat_skills(self, seat_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[SeatSkill, Skill]]]:
        if not seat_ids:
            return {}
        rows = await self.session.execute(
            select(SeatSkill, Skill)
            .join(Skill, Skill.id == SeatSkill.skill_id)
            .where(SeatSkill.seat_id.in_(list(seat_ids)))  # type: ignore[attr-defined]
            .order_by(SeatSkill.min_level.desc(), Skill.name)  # type: ignore[attr-defined]
        )
        grouped: dict[uuid.UUID, list[tuple[SeatSkill, Skill]]] = {}
        for seat_skill, skill in rows:
            grouped.setdefault(seat_skill.seat_id, []).append((seat_skill, skill))
        return grouped

    async def replace_seats(self, mission_id: uuid.UUID, seats: Sequence[tuple[MissionSeat, dict[uuid.UUID, int]]]):
        await self.session.execute(delete(MissionSeat).where(MissionSeat.mission_id == mission_id))
        for seat, skills in seats:
            self.session.add(seat)
            await self.session.flush()
            self.session.add_all(
                SeatSkill(seat_id=seat.id, skill_id=skill_id, min_level=level) for skill_id, level in skills.items()
            )
        await self.session.flush()

    async def skill_names(self, mission_id: uuid.UUID) -> str:
        return str(
            await self.session.scalar(
                text(
                    "select coalesce(string_agg(distinct k.name || ' ' || array_to_string(k.aliases, ' '), ' '), '')"
                    " from mission_seat s join seat_skill ss on ss.seat_id = s.id join skill k on k.id = ss.skill_id"
                    " where s.mission_id = :mission_id"
                ).bindparams(mission_id=mission_id)
            )
            or ""
        )

    async def engagements(self, mission_id: uuid.UUID) -> Sequence[Engagement]:
        rows = await self.session.scalars(
            select(Engagement).where(Engagement.mission_id == mission_id).order_by(Engagement.created_at)
        )
        return rows.all()

    async def owned(self, account_id: uuid.UUID, limit: int, offset: int) -> tuple[Sequence[Mission], int]:
        condition = or_(Mission.owner_id == account_id, Mission.referrer_id == account_id)
        rows = await self.session.scalars(
            select(Mission).where(condition).order_by(Mission.created_at.desc(), Mission.id).limit(limit).offset(offset)  # type: ignore[attr-defined]
        )
        total = await self.session.scalar(select(func.count()).select_from(Mission).where(condition))
        return rows.all(), int(total or 0)

    async def seat_counts(self, mission_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
        if not mission_ids:
            return {}
        rows = await self.session.execute(
            text(
                "select s.mission_id, count(*), count(*) filter (where e.id is null) from mission_seat s"
                " left join engagement e on e.seat_id = s.id where s.mission_id = any(:ids) group by s.mission_id"
            ).bindparams(ids=list(mission_ids))
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}

    async def search(self, filters: MissionFilters) -> tuple[list[Any], int | None]:
        sql, params = mission_search_sql(filters)
        rows = (await self.session.execute(text(sql).bindparams(**params))).all()
        return list(rows), (int(rows[0].total) if rows else None)

    async def count(self, filters: MissionFilters) -> int:
        sql, params = mission_search_sql(filters)
        statement = text(f"select count(*) from ({sql}) as page")  # noqa: S608 - built from constants
        return int(await self.session.scalar(statement.bindparams(**{**params, "limit": None, "offset": 0})) or 0)

    # the lifecycle

    async def log_transition(self, row: MissionTransition) -> None:
        await self.add(row)

    async def transitions(self, mission_id: uuid.UUID) -> Sequence[MissionTransition]:
        rows = await self.session.scalars(
            select(MissionTransition).where(MissionTransition.mission_id == mission_id).order_by(MissionTransition.at)
        )
        return rows.all()

    @staticmethod
    def show_loaded(row: Any, column: str, value: str) -> None:
        """Gives a loaded row's column the value the caller sees (an opened sealed text) as if loaded from
        the database: not a change, so a flush never writes it back in clear."""
        set_committed_value(row, column, value)
