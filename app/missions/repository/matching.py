"""The candidate queries behind matching, and what scoring reads."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from app.missions.repository.base import CANDIDATE_POOL, RepositoryBase
from app.models import (
    MarketplacePolicy,
    Mission,
    MissionSeat,
)


def candidates_sql(*, required: bool, strict: bool = True) -> str:
    """Matching's pool: published profiles the caller may see, best skill coverage first.

    With required skills, `profile_skill` alone is aggregated first (an index-only scan on
    (skill, level) -> profile): the `:wide` profiles meeting the most required skills at their
    minimum level (`strict`; otherwise at any level), the higher levels first; only those are joined
    to `member_profile` for visibility, and the first `:pool` are scored in full.
    """
    if not required:
        return (
            "select p.account_id, 0.0 as coverage from member_profile p"
            " where p.published_at is not null and p.visibility = any(:visibilities)"
            " and p.account_id <> all(:excluded) order by p.updated_at desc, p.account_id limit :pool"
        )
    level = " and ps.level >= r.min_level" if strict else ""
    return (
        "with covered as ("  # noqa: S608 - constant fragments
        " select ps.profile_id, count(*) as met, sum(ps.level) as levels"
        " from unnest(cast(:skill_ids as uuid[]), cast(:min_levels as int[])) as r(skill_id, min_level)"
        f" join profile_skill ps on ps.skill_id = r.skill_id{level}"
        " group by ps.profile_id order by met desc, levels desc, ps.profile_id limit :wide)"
        " select p.account_id, c.met as coverage from covered c join member_profile p on p.account_id = c.profile_id"
        " where p.published_at is not null and p.visibility = any(:visibilities)"
        " and p.account_id <> all(:excluded)"
        " order by c.met desc, c.levels desc, p.account_id limit :pool"
    )


# What scoring reads of a candidate (`MissionService._candidate`): the profile's columns, the seat's
# required skills it has (skill, level, attested) and its availability periods, as arrays of records
# (asyncpg decodes them with their types). One statement per seat instead of the pool and three
# detail queries, each a round trip through the ORM's session (bench/README.md, marketplace).
CANDIDATE_COLUMNS = (
    "p.account_id, p.display_name, p.headline, p.city, p.region, p.country, p.day_rate_min_minor,"
    " p.currency, p.available_from, p.work_mode, p.travel_km, p.latitude, p.longitude,"
    " array(select row(ps.skill_id, ps.level, ps.attestations > 0) from profile_skill ps"
    "   where ps.profile_id = p.account_id and ps.skill_id = any(cast(:skill_ids as uuid[]))) as skills,"
    " array(select row(a.starts_on, a.ends_on, a.share_percent) from profile_availability a"
    "   where a.profile_id = p.account_id) as availability"
)


class CandidateRow(NamedTuple):
    """A row of `CANDIDATE_COLUMNS`, in their order: a plain tuple whose columns read as attributes
    at C speed (scoring reads ten of them per candidate, for 200-400 candidates per request)."""

    account_id: uuid.UUID
    display_name: str
    headline: str
    city: str
    region: str
    country: str
    day_rate_min_minor: int
    currency: str
    available_from: date | None
    work_mode: str
    travel_km: int
    latitude: float | None
    longitude: float | None
    skills: list[Any]  # records (skill_id, level, attested)
    availability: list[Any]  # records (starts_on, ends_on, share_percent)


def candidates_with_details_sql(*, required: bool, strict: bool = True) -> str:
    """The pool of `candidates_sql`, each candidate with `CANDIDATE_COLUMNS`."""
    return (
        f"select {CANDIDATE_COLUMNS} from ({candidates_sql(required=required, strict=strict)}) as pool"  # noqa: S608
        " join member_profile p on p.account_id = pool.account_id"
    )


@functools.cache
def _pool_statement(*, required: bool, strict: bool) -> tuple[str, tuple[str, ...]]:
    """`candidates_with_details_sql` in asyncpg's `$n` placeholders and the bind names in their order,
    compiled once by SQLAlchemy's asyncpg dialect (three shapes in all)."""
    compiled = text(candidates_with_details_sql(required=required, strict=strict)).compile(
        dialect=asyncpg_dialect.dialect()
    )
    return str(compiled), tuple(compiled.positiontup or ())


# profile rows; profile -> {skill -> (level, attested)}; profile -> [(starts_on, ends_on, share_percent)]
CandidateDetails = tuple[
    list[Any], dict[uuid.UUID, dict[uuid.UUID, tuple[int, bool]]], dict[uuid.UUID, list[tuple[date, date, int]]]
]


def scoring_details(
    rows: Sequence[Any],
) -> tuple[dict[uuid.UUID, dict[uuid.UUID, tuple[int, bool]]], dict[uuid.UUID, list[tuple[date, date, int]]]]:
    """The skills and availability of candidate rows (`CANDIDATE_COLUMNS`) as `MissionService._candidate`
    reads them: profile -> {skill -> (level, attested)}; profile -> [(starts_on, ends_on, share_percent)]."""
    skills: dict[uuid.UUID, dict[uuid.UUID, tuple[int, bool]]] = {}
    availability: dict[uuid.UUID, list[tuple[date, date, int]]] = {}
    for row in rows:
        if row.skills:
            skills[row.account_id] = {skill_id: (level, attested) for skill_id, level, attested in row.skills}
        if row.availability:
            availability[row.account_id] = [tuple(period) for period in row.availability]
    return skills, availability


def _candidate_details(rows: list[Any]) -> CandidateDetails:
    return rows, *scoring_details(rows)


# -- what a matching request reads before its candidates, in one statement -----------------------------
#
# `GET /api/v1/missions/{id}/matches` used to read the mission, the policy, the seats, their skills
# and the engagements through the ORM's session, one round trip each (plus BEGIN and COMMIT), before
# the seats' pool statements. Here they come in one row, with the facts the visibility rules ask for
# (whether the viewer applied, whether the client organisation is verified); the rules themselves
# stay in the service (`MissionService._can_view`), which reads these facts instead of querying.

_MATCHING_CONTEXT = text(
    "select m.id, m.owner_id, m.referrer_id, m.client_organisation_id, m.status, m.visibility,"
    " m.budget_kind, m.budget_amount_minor, m.budget_days, m.currency, m.starts_on, m.ends_on,"
    " m.work_mode, m.latitude, m.longitude, m.region, m.country,"
    " array(select e.member_id from engagement e where e.mission_id = m.id order by e.created_at) as engaged,"
    " exists (select 1 from application a where a.mission_id = m.id and a.member_id = :viewer) as applied,"
    " coalesce((select o.verified_at is not null from client_organisation o"
    "   where o.id = m.client_organisation_id), false) as organisation_verified,"
    " array(select row(s.id, s.position, s.title, s.day_rate_minor, s.days,"
    "   array(select row(ss.skill_id, ss.min_level) from seat_skill ss join skill k on k.id = ss.skill_id"
    "     where ss.seat_id = s.id order by ss.min_level desc, k.name))"
    "   from mission_seat s where s.mission_id = m.id order by s.position) as seats,"
    " (select row(p.territorial_fairness, p.local_radius_km) from marketplace_policy p where p.id = 1) as policy"
    " from mission m where m.id = :mission"
)
_COMPILED_CONTEXT = _MATCHING_CONTEXT.compile(dialect=asyncpg_dialect.dialect())
# The same statement in asyncpg's `$n` placeholders, and its bind names in their order.
MATCHING_CONTEXT_SQL = str(_COMPILED_CONTEXT)
_CONTEXT_BINDS = tuple(_COMPILED_CONTEXT.positiontup or ())


@dataclass(frozen=True, slots=True)
class MatchingMission:
    """The mission's columns that visibility and scoring read (the same names as `Mission`'s)."""

    id: uuid.UUID
    owner_id: uuid.UUID
    referrer_id: uuid.UUID | None
    client_organisation_id: uuid.UUID | None
    status: str
    visibility: str
    budget_kind: str
    budget_amount_minor: int
    budget_days: int | None
    currency: str
    starts_on: date
    ends_on: date
    work_mode: str
    latitude: float | None
    longitude: float | None
    region: str
    country: str


@dataclass(frozen=True, slots=True)
class MatchingSeat:
    """A seat (the same names as `MissionSeat`'s) and its required skills, the highest levels first."""

    id: uuid.UUID
    position: int
    title: str
    day_rate_minor: int | None
    days: int | None
    skills: tuple[tuple[uuid.UUID, int], ...]  # (skill, minimum level)


@dataclass(frozen=True, slots=True)
class MatchingContext:
    mission: MatchingMission
    seats: tuple[MatchingSeat, ...]  # by position
    engaged: tuple[uuid.UUID, ...]  # the members engaged on the mission, the earliest first
    applied: bool  # the viewer applied to one of its seats (any status)
    organisation_verified: bool  # its client organisation, if any, is verified
    policy: tuple[int, int] | None  # (territorial fairness, local radius in km); None if the row is missing


_MISSION_COLUMNS = len(MatchingMission.__slots__)  # type: ignore[attr-defined]


def _matching_context(row: Sequence[Any]) -> MatchingContext:
    engaged, applied, verified, seats, policy = row[_MISSION_COLUMNS:]
    return MatchingContext(
        mission=MatchingMission(*row[:_MISSION_COLUMNS]),
        seats=tuple(
            MatchingSeat(seat_id, position, title, day_rate, days, tuple((s, level) for s, level in skills))
            for seat_id, position, title, day_rate, days, skills in seats
        ),
        engaged=tuple(engaged),
        applied=bool(applied),
        organisation_verified=bool(verified),
        policy=(int(policy[0]), int(policy[1])) if policy is not None else None,
    )


class MatchingQueries(RepositoryBase):
    """The candidate pool and its details per seat, the matching context, the policy."""

    # matching

    async def candidate_pool(
        self, *, skills: dict[uuid.UUID, int], visibilities: Sequence[str], excluded: Sequence[uuid.UUID]
    ) -> list[CandidateRow]:
        """Matching's pool for one seat, each candidate with what scoring reads (`CANDIDATE_COLUMNS`:
        its skills and availability as they come, arrays of records; `scoring_details` makes mappings
        of them), in one statement (two when few members meet the levels: the pool is then completed
        with those below them)."""
        params: dict[str, Any] = {
            "visibilities": list(visibilities),
            "excluded": list(excluded) or [uuid.UUID(int=0)],
            "pool": CANDIDATE_POOL,
            "skill_ids": list(skills),
        }
        if not skills:
            return await self._pool_rows(params, required=False, strict=True)
        params.update(min_levels=list(skills.values()), wide=CANDIDATE_POOL * 5)
        found = await self._pool_rows(params, required=True, strict=True)
        if len(found) < CANDIDATE_POOL:  # few meet the levels: complete with those below them
            params["excluded"] = [*params["excluded"], *(row.account_id for row in found)]
            loose = await self._pool_rows(params, required=True, strict=False)
            found += loose[: CANDIDATE_POOL - len(found)]
        return found

    def reads_apart(self) -> bool:
        """Whether the matching reads run on the raw pool (`Database.fetch`), each on a connection of
        its own, so that several may run at once; not in the session (one connection, one at a time)."""
        return self.database is not None and self._unit_untouched()

    async def matching_context(self, mission_id: uuid.UUID, viewer_id: uuid.UUID) -> MatchingContext | None:
        """What matching reads before its candidates (`_MATCHING_CONTEXT`), in one statement; None if
        there is no such mission. On the raw pool (no BEGIN, no COMMIT, no ORM) while the request has
        written nothing; in the session otherwise."""
        params = {"mission": mission_id, "viewer": viewer_id}
        if self.database is not None and self._unit_untouched():
            row = await self.database.fetch_row(MATCHING_CONTEXT_SQL, *(params[name] for name in _CONTEXT_BINDS))
        else:
            await self.session.flush()
            row = (await self.session.execute(_MATCHING_CONTEXT, params)).first()
        return None if row is None else _matching_context(row)

    async def _pool_rows(self, params: dict[str, Any], *, required: bool, strict: bool) -> list[CandidateRow]:
        """The pool statement, without the ORM's result rows (SQLAlchemy's execution and row processing
        were a third of a matching request's samples, bench/README.md): on the raw pool while the
        request has written nothing, otherwise on the asyncpg connection under the session's transaction."""
        statement, names = _pool_statement(required=required, strict=strict)
        args = [params[name] for name in names]
        if self.database is not None and self._unit_untouched():
            records: list[Any] = await self.database.fetch(statement, *args)
        else:
            connection = await (await self.session.connection()).get_raw_connection()
            records = await connection.driver_connection.fetch(statement, *args)
        if records and tuple(records[0].keys()) != CandidateRow._fields:
            raise RuntimeError("CANDIDATE_COLUMNS and CandidateRow disagree")
        return [CandidateRow._make(record) for record in records]

    async def candidate_details(
        self, account_ids: Sequence[uuid.UUID], skill_ids: Sequence[uuid.UUID]
    ) -> CandidateDetails:
        """Profiles, the given skills they have, and their availability, in one statement."""
        sql = f"select {CANDIDATE_COLUMNS} from member_profile p where p.account_id = any(:ids)"  # noqa: S608
        return _candidate_details(await self._rows(sql, {"ids": list(account_ids), "skill_ids": list(skill_ids)}))

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[Any]:
        return list(await self.session.execute(text(sql).bindparams(**params)))

    async def open_seats_for(self, member_id: uuid.UUID, visibilities: Sequence[str]) -> list[Any]:
        """Unfilled seats of open missions the member may see and does not own, best skill coverage first."""
        rows = await self.session.execute(
            text(
                "select s.id as seat_id, m.id as mission_id,"
                " coalesce(sum(least(ps.level, ss.min_level)::float / ss.min_level), 0) as coverage"
                " from mission m join mission_seat s on s.mission_id = m.id"
                " left join seat_skill ss on ss.seat_id = s.id"
                " left join profile_skill ps on ps.skill_id = ss.skill_id and ps.profile_id = :member"
                " where m.status = 'open' and m.visibility = any(:visibilities) and m.owner_id <> :member"
                " and not exists (select 1 from engagement e where e.seat_id = s.id)"
                " group by s.id, m.id order by coverage desc, m.starts_on, s.id limit :pool"
            ).bindparams(member=member_id, visibilities=list(visibilities), pool=CANDIDATE_POOL)
        )
        return list(rows)

    async def missions_by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Mission]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Mission).where(Mission.id.in_(list(ids))))  # type: ignore[attr-defined]
        return {row.id: row for row in rows}

    async def seats_by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MissionSeat]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(MissionSeat).where(MissionSeat.id.in_(list(ids))))  # type: ignore[attr-defined]
        return {row.id: row for row in rows}

    async def policy(self) -> MarketplacePolicy:
        policy = await self.session.get(MarketplacePolicy, 1)
        if policy is None:  # the migration inserts it; a database restored without it gets the default back
            policy = MarketplacePolicy(id=1)
            await self.add(policy)
        return policy
