"""All SQL of the missions feature: missions, seats, the lifecycle log, applications, engagements,
questions, reviews, mission search and the candidate queries behind matching."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.db.engine import Database
from app.members.repository import tsquery_sql
from app.models import (
    Account,
    Application,
    ClientOrganisation,
    Engagement,
    MarketplacePolicy,
    Mission,
    MissionQuestion,
    MissionSeat,
    MissionTransition,
    Review,
    SeatSkill,
    Skill,
)

# Matching scores the candidates with the best skill coverage in full; the rest are not ranked.
CANDIDATE_POOL = 200
LIVE_APPLICATION = ("submitted", "shortlisted", "accepted")


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


class MissionRepository:
    def __init__(self, session: AsyncSession, database: Database | None = None) -> None:
        self.session = session
        # The request's database, for matching's reads on the raw pool while the session has begun
        # nothing; None outside HTTP requests (CLI, background loops, demos): the session then.
        self.database = database

    def _unit_untouched(self) -> bool:
        """True while the request's session has begun nothing and holds no change: a read outside it
        then sees exactly what a read inside it would (READ COMMITTED: each statement its own snapshot)."""
        session = self.session
        return not (session.in_transaction() or session.new or session.dirty or session.deleted)

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

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

    # reviews

    async def review_exists(self, mission_id: uuid.UUID, author_id: uuid.UUID, subject_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count())
            .select_from(Review)
            .where(Review.mission_id == mission_id, Review.author_id == author_id, Review.subject_id == subject_id)
        )
        return bool(found)

    async def counterpart(self, review: Review) -> Review | None:
        return await self.session.scalar(
            select(Review).where(
                Review.mission_id == review.mission_id,
                Review.author_id == review.subject_id,
                Review.subject_id == review.author_id,
            )
        )

    async def due_reviews(
        self,
        *,
        mission_id: uuid.UUID | None = None,
        subject_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
    ):
        """Unpublished reviews whose mission was delivered 14 days ago or more (locked for publication)."""
        query = (
            select(Review)
            .join(Mission, Mission.id == Review.mission_id)
            .where(
                Review.published_at.is_(None),  # type: ignore[union-attr]
                Mission.delivered_at <= func.now() - text("interval '14 days'"),
            )
            .with_for_update(of=Review)
        )
        if mission_id is not None:
            query = query.where(Review.mission_id == mission_id)
        if subject_id is not None:
            query = query.where(Review.subject_id == subject_id)
        if organisation_id is not None:
            query = query.where(
                Mission.client_organisation_id == organisation_id, Review.subject_id == Mission.owner_id
            )
        return (await self.session.scalars(query)).all()

    async def reviews_of_mission(
        self, mission_id: uuid.UUID, author_id: uuid.UUID | None, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews of the mission, and `author_id`'s own unpublished ones."""
        visible = Review.published_at.is_not(None)  # type: ignore[union-attr]
        if author_id is not None:
            visible = or_(visible, Review.author_id == author_id)
        conditions = (Review.mission_id == mission_id, visible)
        rows = await self.session.execute(
            select(Review, Mission.title)
            .join(Mission, Mission.id == Review.mission_id)
            .where(*conditions)
            .order_by(Review.created_at, Review.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Review).where(*conditions))
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def organisation_verified(self, organisation_id: uuid.UUID) -> bool:
        organisation = await self.session.get(ClientOrganisation, organisation_id)
        return organisation is not None and organisation.verified_at is not None

    async def email_verified(self, account_id: uuid.UUID) -> bool:
        account = await self.session.get(Account, account_id)
        return account is not None and account.email_verified_at is not None

    async def organisation_exists(self, organisation_id: uuid.UUID) -> bool:
        return await self.session.get(ClientOrganisation, organisation_id) is not None

    async def published_reviews_of_organisation(
        self, organisation_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews whose subject is the client side of one of the organisation's missions."""
        conditions = (
            Mission.client_organisation_id == organisation_id,
            Review.subject_id == Mission.owner_id,
            Review.published_at.is_not(None),  # type: ignore[union-attr]
        )
        rows = await self.session.execute(
            select(Review, Mission.title)
            .join(Mission, Mission.id == Review.mission_id)
            .where(*conditions)
            .order_by(Review.published_at.desc(), Review.id)  # type: ignore[union-attr]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(Review).join(Mission, Mission.id == Review.mission_id).where(*conditions)
        )
        return [(row[0], row[1]) for row in rows], int(total or 0)

    async def published_reviews_of(self, subject_id: uuid.UUID, limit: int, offset: int):
        condition = (Review.subject_id == subject_id, Review.published_at.is_not(None))  # type: ignore[union-attr]
        rows = await self.session.execute(
            select(Review, Mission.title)
            .join(Mission, Mission.id == Review.mission_id)
            .where(*condition)
            .order_by(Review.published_at.desc(), Review.id)  # type: ignore[union-attr]
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Review).where(*condition))
        return [(row[0], row[1]) for row in rows], int(total or 0)

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
