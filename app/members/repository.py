"""All SQL of the members feature: the référentiel, profiles, the search vocabulary and profile search."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import any_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.models import (
    MemberProfile,
    ProfileAvailability,
    ProfileSkill,
    SeatSkill,
    Skill,
    SkillAttestation,
    SkillOrigin,
    SkillStatus,
)

# Query words shorter than this are not corrected (too many near neighbours to be useful).
MIN_CORRECTED_LENGTH = 4
SIMILARITY_THRESHOLD = 0.3
EARTH_RADIUS_KM = 6371.0


def haversine_sql(lat: str, lon: str, lat_param: str, lon_param: str) -> str:
    """Great-circle distance in km between a row's coordinates and bound parameters."""
    return (
        f"({EARTH_RADIUS_KM} * 2 * asin(sqrt(power(sin(radians({lat} - :{lat_param}) / 2), 2)"
        f" + cos(radians(:{lat_param})) * cos(radians({lat}))"
        f" * power(sin(radians({lon} - :{lon_param}) / 2), 2))))"
    )


def tsquery_sql(param: str) -> str:
    """French and English readings of the same corrected, unaccented query (see `build_tsquery`)."""
    return f"(to_tsquery('french'::regconfig, :{param}) || to_tsquery('english'::regconfig, :{param}))"


def build_tsquery(groups: Sequence[Sequence[str]]) -> str:
    """`[[a, a2], [b]]` -> `(a | a2) & (b)`; every word is [a-z0-9]+ (see `query_words`)."""
    return " & ".join("(" + " | ".join(group) + ")" for group in groups if group)


@dataclass
class ProfileFilters:
    """A profile search, already validated and resolved by the service."""

    visibilities: tuple[str, ...]
    tsquery: str | None = None
    skills: list[tuple[uuid.UUID, int]] = field(default_factory=list)
    rate_min: int | None = None
    rate_max: int | None = None
    currency: str | None = None
    region: str | None = None
    work_modes: tuple[str, ...] = ()
    near: tuple[float, float, float] | None = None  # latitude, longitude, km
    available: tuple[date, date] | None = None
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0


def profile_search_sql(filters: ProfileFilters) -> tuple[str, dict[str, Any]]:
    """The one profile-search statement: the API runs it, and so does the benchmark's raw asyncpg path.

    Every filter is a bound parameter; only the shape of the statement varies. `total` is the count
    of all matching rows (a window), so the page and its total come from one round trip.
    """
    params: dict[str, Any] = {"visibilities": list(filters.visibilities)}
    where = ["p.published_at is not null", "p.visibility = any(:visibilities)"]
    relevance = "null::real"
    if filters.tsquery:
        params["tsquery"] = filters.tsquery
        where.append(f"p.search_vector @@ {tsquery_sql('tsquery')}")
        relevance = f"ts_rank(p.search_vector, {tsquery_sql('tsquery')})"
    for index, (skill_id, level) in enumerate(filters.skills):
        params[f"skill_{index}"] = skill_id
        params[f"level_{index}"] = level
        where.append(
            "exists (select 1 from profile_skill ps where ps.profile_id = p.account_id"  # noqa: S608 - constant fragments, bound values
            f" and ps.skill_id = :skill_{index} and ps.level >= :level_{index})"
        )
    if filters.rate_max is not None:
        params["rate_max"] = filters.rate_max
        where.append("p.day_rate_min_minor <= :rate_max")
    if filters.rate_min is not None:
        params["rate_min"] = filters.rate_min
        where.append("p.day_rate_max_minor >= :rate_min")
    if filters.currency:
        params["currency"] = filters.currency
        where.append("p.currency = :currency")
    if filters.region:
        params["region"] = filters.region
        where.append("lower(coop_unaccent(p.region)) = lower(coop_unaccent(:region))")
    if filters.work_modes:
        params["work_modes"] = list(filters.work_modes)
        where.append("p.work_mode = any(:work_modes)")
    distance = "null::float8"
    if filters.near:
        latitude, longitude, km = filters.near
        params.update(near_lat=latitude, near_lon=longitude, near_km=km, near_deg=km / 111.0 + 0.01)
        distance = haversine_sql("p.latitude", "p.longitude", "near_lat", "near_lon")
        where.append("p.latitude between :near_lat - :near_deg and :near_lat + :near_deg")
        where.append(f"{distance} <= :near_km")
    if filters.available:
        params["available_start"], params["available_end"] = filters.available
        where.append(
            "((p.available_from is not null and p.available_from <= :available_start)"
            " or exists (select 1 from profile_availability pa where pa.profile_id = p.account_id"
            " and pa.starts_on <= :available_start and pa.ends_on >= :available_end))"
        )
    order = {
        "relevance": "relevance desc nulls last, p.updated_at desc",
        "rate": "p.day_rate_min_minor asc, p.updated_at desc",
        "available": "p.available_from asc nulls last, p.updated_at desc",
        "recent": "p.updated_at desc",
        "distance": "distance_km asc nulls last, p.updated_at desc",
    }[filters.sort]
    params.update(limit=filters.limit, offset=filters.offset)
    page = (
        "select p.account_id, p.display_name, p.headline, p.city, p.region, p.country, p.work_mode,"  # noqa: S608
        " p.day_rate_min_minor, p.day_rate_max_minor, p.currency, p.available_from, p.updated_at,"
        f" {relevance} as relevance, {distance} as distance_km, count(*) over () as total"
        " from member_profile p"
        f" where {' and '.join(where)}"
        f" order by {order}, p.account_id limit :limit offset :offset"
    )
    # The page's skills in the same round trip, computed for the page's rows only.
    sql = (
        "select page.*, (select coalesce(json_agg(json_build_array(s.slug, s.name, ps.level, ps.attestations)"  # noqa: S608
        " order by ps.level desc, s.name), '[]') from profile_skill ps join skill s on s.id = ps.skill_id"
        f" where ps.profile_id = page.account_id) as skills from ({page}) as page"
        f" order by {order.replace('p.', 'page.')}, page.account_id"
    )
    return sql, params


# -- one profile as its page shows it, in one statement ------------------------------------------------
#
# `GET /api/v1/profiles/{id}` used to take seven round trips through the ORM (BEGIN, the profile, its
# skills, their attestations, its availability, its rating, COMMIT), each paying the ORM's
# per-statement cost, and building table-model instances cost ~100 µs each (bench/README.md). Here
# the profile and everything its page shows come in one row: skills (each with its attestations),
# availability and rating as arrays of anonymous records, which asyncpg decodes with their own types
# (uuid, date, timestamptz). Visibility is not decided here: the service reads the row, then applies
# its rules (`MemberService.can_view`), so they stay in one place.

_PROFILE_VIEW = text(
    "select p.account_id, p.display_name, p.headline, p.bio, p.photo_url, p.day_rate_min_minor,"
    " p.day_rate_max_minor, p.currency, p.available_from, p.city, p.postal_code, p.region, p.country,"
    " p.latitude, p.longitude, p.location_precision, p.work_mode, p.travel_km, p.languages::text,"
    " p.links::text, p.contact_email, p.contact_phone, p.visibility, p.published_at, p.updated_at,"
    " array(select row(s.id, s.slug, s.name, s.esco_uri, ps.level, ps.years, ps.declared, ps.attestations,"
    "   ps.origin, array(select row(m.id, m.title, sa.created_at) from skill_attestation sa"
    "     join mission m on m.id = sa.mission_id where sa.profile_id = p.account_id and sa.skill_id = ps.skill_id"
    "     order by sa.created_at))"
    "   from profile_skill ps join skill s on s.id = ps.skill_id where ps.profile_id = p.account_id"
    "   order by ps.level desc, s.name) as skills,"
    " array(select row(a.starts_on, a.ends_on, a.share_percent) from profile_availability a"
    "   where a.profile_id = p.account_id order by a.starts_on) as availability,"
    " (select row(avg(r.rating), count(*)) from review r"
    "   where r.subject_id = p.account_id and r.published_at is not null) as rating"
    " from member_profile p where p.account_id = :account_id"
)

# The same statement in asyncpg's own placeholders, for the raw pool (and the benchmark's ceiling).
PROFILE_VIEW_SQL = str(_PROFILE_VIEW.compile(dialect=asyncpg_dialect.dialect()))


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """The profile's own columns, as read (the same names as `MemberProfile`'s, read-only)."""

    account_id: uuid.UUID
    display_name: str
    headline: str
    bio: str
    photo_url: str | None
    day_rate_min_minor: int
    day_rate_max_minor: int
    currency: str
    available_from: date | None
    city: str
    postal_code: str
    region: str
    country: str
    latitude: float | None
    longitude: float | None
    location_precision: str
    work_mode: str
    travel_km: int
    languages: list[dict[str, Any]]
    links: list[dict[str, Any]]
    contact_email: str | None
    contact_phone: str | None
    visibility: str
    published_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SkillRecord:
    id: uuid.UUID
    slug: str
    name: str
    esco_uri: str | None


@dataclass(frozen=True, slots=True)
class ProfileSkillRecord:
    """A skill on a profile (the same names as `ProfileSkill`'s)."""

    skill_id: uuid.UUID
    level: int
    years: int
    declared: bool
    attestations: int
    origin: str


@dataclass(frozen=True, slots=True)
class AvailabilityRecord:
    starts_on: date
    ends_on: date
    share_percent: int


@dataclass(frozen=True, slots=True)
class ProfileViewRow:
    profile: ProfileRecord
    # (skill on the profile, the skill, its attestations as (mission id, mission title, attested at))
    skills: list[tuple[ProfileSkillRecord, SkillRecord, list[tuple[uuid.UUID, str, datetime]]]]
    availability: list[AvailabilityRecord]
    rating: tuple[float | None, int]


_PROFILE_FIELDS: tuple[str, ...] = ProfileRecord.__slots__  # type: ignore[attr-defined]
_PROFILE_COLUMNS = len(_PROFILE_FIELDS)
_JSON_COLUMNS = (_PROFILE_FIELDS.index("languages"), _PROFILE_FIELDS.index("links"))  # jsonb, read as text


def _profile_view_row(row: Sequence[Any]) -> ProfileViewRow:
    columns = list(row[:_PROFILE_COLUMNS])
    for index in _JSON_COLUMNS:
        columns[index] = json.loads(columns[index])
    skills_column, availability_column, (average, count) = row[_PROFILE_COLUMNS:]
    return ProfileViewRow(
        profile=ProfileRecord(*columns),
        skills=[
            (
                ProfileSkillRecord(skill_id, level, years, declared, attestations, origin),
                SkillRecord(skill_id, slug, name, esco_uri),
                [tuple(attestation) for attestation in attested],
            )
            for skill_id, slug, name, esco_uri, level, years, declared, attestations, origin, attested in skills_column
        ],
        availability=[AvailabilityRecord(*period) for period in availability_column],
        rating=(round(float(average), 2) if average is not None else None, int(count)),
    )


_KNOWN_WORDS = "select word from search_word where word = any(:words)"
_CLOSEST_WORDS = (
    "select q.word, c.word from unnest(cast(:words as text[])) as q(word)"
    # `%` is pg_trgm's similarity operator (its GIN index); the threshold is checked below.
    " cross join lateral (select s.word, similarity(s.word, q.word) as score"
    "   from search_word s where s.word % q.word"
    "   and s.length between char_length(q.word) - 2 and char_length(q.word) + 2"
    "   order by score desc, s.word limit 3) as c"
    " where c.score >= :threshold"
)


@functools.lru_cache(maxsize=512)
def _asyncpg_statement(sql: str) -> tuple[str, tuple[str, ...]]:
    """A `:name` statement in asyncpg's `$n` placeholders, and the names in their order, compiled by
    SQLAlchemy's asyncpg dialect (once per statement shape: search has a few dozen)."""
    compiled = text(sql).compile(dialect=asyncpg_dialect.dialect())
    return str(compiled), tuple(compiled.positiontup or ())


class MemberRepository:
    def __init__(self, session: AsyncSession, database: Database | None = None) -> None:
        self.session = session
        self.database = database

    def _unit_untouched(self) -> bool:
        """True while the request's session has begun nothing and holds no change: a read outside it
        then sees exactly what a read inside it would."""
        session = self.session
        return not (session.in_transaction() or session.new or session.dirty or session.deleted)

    async def profile_view(self, account_id: uuid.UUID) -> ProfileViewRow | None:
        """The profile and all its page shows, in one statement; None if the member has no profile.

        Read on the raw asyncpg pool, outside the unit of work, when the request has written nothing
        yet (a plain read: no BEGIN, no COMMIT, no ORM); inside the session otherwise, so that a
        profile just saved is read back with its changes.
        """
        if self.database is not None and self._unit_untouched():
            row = await self.database.fetch_row(PROFILE_VIEW_SQL, account_id)
        else:
            await self.session.flush()
            row = (await self.session.execute(_PROFILE_VIEW.bindparams(account_id=account_id))).first()
        return _profile_view_row(row) if row is not None else None

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # the référentiel

    async def get_skill(self, skill_id: uuid.UUID) -> Skill | None:
        return await self.session.get(Skill, skill_id)

    async def skills_by_ids(self, skill_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Skill]:
        if not skill_ids:
            return {}
        rows = await self.session.scalars(select(Skill).where(Skill.id.in_(list(skill_ids))))  # type: ignore[attr-defined]
        return {row.id: row for row in rows}

    async def skill_by_term(self, term: str) -> Skill | None:
        """A skill by slug, name or alias (case and accents ignored); merged skills resolve to their target."""
        skill = await self.session.scalar(
            select(Skill)
            .where(or_(Skill.slug == term.lower(), func.coop_unaccent(func.lower(term)) == any_(Skill.terms)))
            .order_by((Skill.status == SkillStatus.MERGED.value).asc(), Skill.slug)
            .limit(1)
        )
        if skill is not None and skill.merged_into_id is not None:
            return await self.session.get(Skill, skill.merged_into_id)
        return skill

    async def term_taken(self, terms: Sequence[str]) -> bool:
        found = await self.session.scalar(
            text(
                "select count(*) from skill where status <> 'merged' and terms &&"
                " array(select coop_unaccent(lower(t)) from unnest(cast(:terms as text[])) as t)"
            ).bindparams(terms=list(terms))
        )
        return bool(found)

    async def slug_exists(self, slug: str) -> bool:
        return bool(await self.session.scalar(select(func.count()).select_from(Skill).where(Skill.slug == slug)))

    async def search_skills(
        self, *, q: str | None, category: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[Sequence[Skill], int]:
        conditions = []
        if q:
            terms = func.array_to_string(Skill.terms, " ")
            conditions.append(func.strpos(terms, func.coop_unaccent(func.lower(q))) > 0)
        if category:
            conditions.append(Skill.category == category)
        conditions.append(Skill.status == status if status else Skill.status != SkillStatus.MERGED.value)
        rows = await self.session.scalars(
            select(Skill).where(*conditions).order_by(Skill.category, Skill.name, Skill.id).limit(limit).offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Skill).where(*conditions))
        return rows.all(), int(total or 0)

    async def merge_skill(self, source: Skill, target: Skill) -> None:
        """Move every reference from `source` to `target`; where both were present, keep the better row."""
        await self.session.execute(
            text(
                "update profile_skill as ps set skill_id = :target where ps.skill_id = :source"
                " and not exists (select 1 from profile_skill o where o.profile_id = ps.profile_id"
                " and o.skill_id = :target)"
            ).bindparams(source=source.id, target=target.id)
        )
        await self.session.execute(
            text(
                "update profile_skill as keep set level = greatest(keep.level, gone.level),"
                " years = greatest(keep.years, gone.years), attestations = keep.attestations + gone.attestations"
                " from profile_skill gone where gone.skill_id = :source and keep.skill_id = :target"
                " and keep.profile_id = gone.profile_id"
            ).bindparams(source=source.id, target=target.id)
        )
        await self.session.execute(delete(ProfileSkill).where(ProfileSkill.skill_id == source.id))
        await self.session.execute(
            text(
                "update seat_skill as ss set skill_id = :target where ss.skill_id = :source"
                " and not exists (select 1 from seat_skill o where o.seat_id = ss.seat_id and o.skill_id = :target)"
            ).bindparams(source=source.id, target=target.id)
        )
        await self.session.execute(delete(SeatSkill).where(SeatSkill.skill_id == source.id))
        await self.session.execute(
            update(SkillAttestation).where(SkillAttestation.skill_id == source.id).values(skill_id=target.id)
        )

    # profiles

    async def get_profile(self, account_id: uuid.UUID) -> MemberProfile | None:
        return await self.session.get(MemberProfile, account_id)

    async def profile_skills(self, account_id: uuid.UUID) -> list[tuple[ProfileSkill, Skill]]:
        rows = await self.session.execute(
            select(ProfileSkill, Skill)
            .join(Skill, Skill.id == ProfileSkill.skill_id)
            .where(ProfileSkill.profile_id == account_id)
            .order_by(ProfileSkill.level.desc(), Skill.name)  # type: ignore[attr-defined]
        )
        return [(row[0], row[1]) for row in rows]

    async def replace_declared_skills(
        self, account_id: uuid.UUID, skills: Sequence[tuple[uuid.UUID, int, int]]
    ) -> None:
        """Declared skills are replaced; attested and trained ones stay (their level follows the declaration if any)."""
        wanted = {skill_id: (level, years) for skill_id, level, years in skills}
        existing = {row.skill_id: row for row, _ in await self.profile_skills(account_id)}
        for skill_id, row in existing.items():
            if skill_id in wanted:
                row.level, row.years = wanted.pop(skill_id)
                row.declared = True
            elif row.attestations > 0 or row.origin == SkillOrigin.TRAINED:
                # Attested by a review or earned by a training: evidence, not a declaration to replace.
                row.declared = False
            else:
                await self.session.delete(row)
        self.session.add_all(
            ProfileSkill(profile_id=account_id, skill_id=skill_id, level=level, years=years, declared=True)
            for skill_id, (level, years) in wanted.items()
        )
        await self.session.flush()

    async def replace_availability(self, account_id: uuid.UUID, ranges: Sequence[tuple[date, date, int]]) -> None:
        await self.session.execute(delete(ProfileAvailability).where(ProfileAvailability.profile_id == account_id))
        self.session.add_all(
            ProfileAvailability(profile_id=account_id, starts_on=start, ends_on=end, share_percent=share)
            for start, end, share in ranges
        )
        await self.session.flush()

    async def skill_names(self, account_id: uuid.UUID) -> str:
        return str(
            await self.session.scalar(
                text(
                    "select coalesce(string_agg(s.name || ' ' || array_to_string(s.aliases, ' '), ' '"
                    " order by s.name), '') from skill s join profile_skill ps on ps.skill_id = s.id"
                    " where ps.profile_id = :account_id"
                ).bindparams(account_id=account_id)
            )
            or ""
        )

    async def learn_words(self, *texts: str) -> None:
        """Add the words of searchable text to the vocabulary that mistyped queries are corrected against."""
        await self.session.execute(
            text(
                "insert into search_word (word) select distinct word"
                " from regexp_split_to_table(lower(coop_unaccent(:body)), '[^a-z0-9]+') as word"
                " where char_length(word) between 3 and 40 on conflict do nothing"
            ).bindparams(body=" ".join(texts))
        )

    async def correct_words(self, words: Sequence[str]) -> dict[str, list[str]]:
        """For each unknown word, its closest vocabulary words by pg_trgm's trigram similarity."""
        known = {row[0] for row in await self._read(_KNOWN_WORDS, {"words": list(words)})}
        unknown = [word for word in words if word not in known and len(word) >= MIN_CORRECTED_LENGTH]
        if not unknown:
            return {}
        corrections: dict[str, list[str]] = {}
        for word, candidate in await self._read(_CLOSEST_WORDS, {"words": unknown, "threshold": SIMILARITY_THRESHOLD}):
            corrections.setdefault(word, []).append(candidate)
        return corrections

    async def search_profiles(self, filters: ProfileFilters) -> tuple[list[Any], int | None]:
        """A page of profile rows (each with its skills as JSON: slug, name, level, attestations) and the total."""
        rows = await self._read(*profile_search_sql(filters))
        return rows, (int(rows[0].total) if rows else None)

    async def _read(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """Rows of a read-only statement (SQLAlchemy `:name` binds): on the raw pool outside the unit of
        work while the request has written nothing (search: no BEGIN, no COMMIT, no ORM result rows,
        ~40 % of a search request's samples, bench/README.md), in the session otherwise."""
        if self.database is not None and self._unit_untouched():
            statement, names = _asyncpg_statement(sql)
            return await self.database.fetch(statement, *(params[name] for name in names))
        return list(await self.session.execute(text(sql).bindparams(**params)))

    async def count_profiles(self, filters: ProfileFilters) -> int:
        sql, params = profile_search_sql(filters)
        return int(
            await self.session.scalar(
                text(f"select count(*) from ({sql}) as page").bindparams(**{**params, "limit": None, "offset": 0})  # noqa: S608
            )
            or 0
        )
