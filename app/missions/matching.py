"""The matching score: pure functions over plain data, so every figure can be explained and tested alone.

A candidate (a member) is scored against a need (a seat of a mission) on four components, each in
[0, 1], returned with the total so the ranking explains itself:

* skill fit: for each required skill, 1 when the member's level reaches the minimum, a partial
  credit below it (level / minimum x 0.6), nothing when the skill is missing; declared skills count
  0.85 of attested ones (seen at work and reviewed). The mean over the required skills.
* availability: the share of the mission's days the member can give, from "available from" (full
  time) and dated availability periods (their share of time), the best offer for each day.
* rate: 1 when the member's lowest day rate fits the seat's day rate, falling linearly to 0 at
  twice the budget; 1 when no day rate can be derived from the budget.
* distance: remote missions fit remote or hybrid members; on-site and hybrid missions compare the
  great-circle distance with how far the member travels (without coordinates: same region 0.8,
  same country 0.4).

Weights: skills 0.45, availability 0.20, rate 0.15, distance 0.20. Territorial fairness (0-100, a
setting of the cooperative) adds a "local" component (1 within the local radius or, without
coordinates, in the same region) weighing up to 0.25, the others scaled down to make room.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from app.members.location import distance_band

WEIGHTS = {"skill_fit": 0.45, "availability": 0.20, "rate": 0.15, "distance": 0.20}
MAX_LOCAL_WEIGHT = 0.25
DECLARED_CREDIT = 0.85
BELOW_LEVEL_CREDIT = 0.6


@dataclass(frozen=True)
class Need:
    """What a seat asks for."""

    skills: Mapping[uuid.UUID, int]  # skill -> minimum level
    day_rate_minor: int | None
    currency: str
    starts_on: date
    ends_on: date
    work_mode: str
    latitude: float | None = None
    longitude: float | None = None
    region: str = ""
    country: str = "FR"


@dataclass(frozen=True)
class Candidate:
    """What a member offers."""

    skills: Mapping[uuid.UUID, tuple[int, bool]]  # skill -> (level, attested)
    day_rate_min_minor: int
    currency: str
    available_from: date | None
    availability: Sequence[tuple[date, date, int]] = ()  # start, end, share of time in percent
    work_mode: str = "hybrid"
    travel_km: int = 0
    latitude: float | None = None
    longitude: float | None = None
    region: str = ""
    country: str = "FR"


@dataclass(frozen=True)
class Policy:
    territorial_fairness: int = 0  # 0..100
    local_radius_km: int = 50


@dataclass(frozen=True)
class Score:
    total: float  # 0..100
    skill_fit: float
    availability: float
    rate: float
    distance: float
    local: float | None  # only when territorial fairness is on
    distance_km: float | None  # between published points; answered only as a band (see location.py)
    notes: list[str] = field(default_factory=list)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), the same formula as the SQL side's."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = math.radians(lat2 - lat1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))


def skill_fit(need: Need, candidate: Candidate, notes: list[str]) -> float:
    if not need.skills:
        return 1.0
    credits = []
    for skill_id, minimum in need.skills.items():
        level, attested = candidate.skills.get(skill_id, (0, False))
        weight = 1.0 if attested else DECLARED_CREDIT
        if level >= minimum:
            credits.append(weight)
        elif level > 0:
            credits.append(weight * BELOW_LEVEL_CREDIT * level / minimum)
        else:
            credits.append(0.0)
    missing = sum(1 for skill_id in need.skills if skill_id not in candidate.skills)
    if missing:
        notes.append(f"{missing} of {len(need.skills)} required skills missing")
    attested = sum(1 for skill_id in need.skills if candidate.skills.get(skill_id, (0, False))[1])
    if attested:
        notes.append(f"{attested} required skills attested by reviews")
    return sum(credits) / len(credits)


def availability(need: Need, candidate: Candidate, notes: list[str]) -> float:
    """Share of the mission's days covered, each day at the best share of time offered for it.

    Days are counted as ordinals (plain integers): the same arithmetic as on dates, without building
    a date and a timedelta per breakpoint (matching scores 200 candidates per seat; bench/README.md).
    """
    first, last = need.starts_on.toordinal(), need.ends_on.toordinal()
    days = last - first + 1
    if days <= 0:
        return 0.0
    offers: list[tuple[int, int, float]] = []
    for s, e, share in candidate.availability:
        begins, ends = s.toordinal(), e.toordinal()
        if begins <= last and ends >= first:
            offers.append((max(begins, first), min(ends, last), share / 100))
    if candidate.available_from is not None and (begins := candidate.available_from.toordinal()) <= last:
        offers.append((max(begins, first), last, 1.0))
    if not offers:
        notes.append("not available over the mission's dates")
        return 0.0
    if len(offers) == 1:  # the sweep below adds this one product to zeros: the same float
        begins, ends, best = offers[0]
        covered = best * (ends + 1 - begins)
    else:
        # Sweep the breakpoints: between two of them, the best offer holds for every day.
        points = sorted({first, last + 1} | {o[0] for o in offers} | {o[1] + 1 for o in offers})
        covered = 0.0
        for left, right in itertools.pairwise(points):
            best = max((share for s, e, share in offers if s <= left and e >= left), default=0.0)
            covered += best * (right - left)
    share = min(1.0, covered / days)
    if share < 1.0:
        notes.append(f"available for {round(share * 100)}% of the mission's days")
    return share


def rate(need: Need, candidate: Candidate, notes: list[str]) -> float:
    if need.day_rate_minor is None or need.day_rate_minor <= 0:
        return 1.0
    if candidate.currency != need.currency:
        notes.append(f"rates in {candidate.currency}, budget in {need.currency}")
        return 0.5
    if candidate.day_rate_min_minor <= need.day_rate_minor:
        return 1.0
    over = (candidate.day_rate_min_minor - need.day_rate_minor) / need.day_rate_minor
    notes.append(f"lowest day rate {round(over * 100)}% above the budget")
    return max(0.0, 1.0 - over)


def _distance(need: Need, candidate: Candidate) -> float | None:
    if None in (need.latitude, need.longitude, candidate.latitude, candidate.longitude):
        return None
    return distance_km(need.latitude, need.longitude, candidate.latitude, candidate.longitude)  # type: ignore[arg-type]


def _same(a: str, b: str) -> bool:
    return bool(a) and a.strip().lower() == b.strip().lower()


def proximity(need: Need, candidate: Candidate, km: float | None, notes: list[str]) -> float:
    remote_capable = candidate.work_mode in ("remote", "hybrid")
    if need.work_mode == "remote":
        if not remote_capable:
            notes.append("prefers working on site; the mission is remote")
        return 1.0 if remote_capable else 0.8
    if candidate.work_mode == "remote":
        notes.append("works remotely only; the mission needs presence")
        on_site = 0.0
    elif km is not None:
        reach = max(candidate.travel_km, 1)
        on_site = 1.0 if km <= reach else max(0.0, 1.0 - (km - reach) / reach)
        if km > reach:
            notes.append(f"{distance_band(km)} away, travels {candidate.travel_km} km")
    elif _same(need.region, candidate.region):
        on_site = 0.8
    elif _same(need.country, candidate.country):
        on_site = 0.4
    else:
        on_site = 0.1
    if need.work_mode == "hybrid" and remote_capable:
        return 0.5 + 0.5 * on_site
    return on_site


def local(need: Need, candidate: Candidate, km: float | None, policy: Policy) -> float:
    if km is not None:
        return 1.0 if km <= policy.local_radius_km else 0.0
    return 1.0 if _same(need.region, candidate.region) else 0.0


def score(need: Need, candidate: Candidate, policy: Policy = Policy()) -> Score:
    notes: list[str] = []
    km = _distance(need, candidate)
    components = {
        "skill_fit": skill_fit(need, candidate, notes),
        "availability": availability(need, candidate, notes),
        "rate": rate(need, candidate, notes),
        "distance": proximity(need, candidate, km, notes),
    }
    local_weight = MAX_LOCAL_WEIGHT * max(0, min(100, policy.territorial_fairness)) / 100
    local_score = local(need, candidate, km, policy) if local_weight else None
    total = sum(WEIGHTS[name] * value for name, value in components.items()) * (1 - local_weight)
    if local_score is not None:
        total += local_weight * local_score
        if local_score:
            notes.append("local to the mission (territorial fairness)")
    return Score(
        total=round(total * 100, 1),
        skill_fit=round(components["skill_fit"], 3),
        availability=round(components["availability"], 3),
        rate=round(components["rate"], 3),
        distance=round(components["distance"], 3),
        local=local_score,
        distance_km=round(km, 1) if km is not None else None,
        notes=notes,
    )
