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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

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


class Offer(Protocol):
    """What scoring reads of a member besides their skills and periods: a `Candidate`, or a row of the
    matching pool with the same column names (scored without building a `Candidate` per member)."""

    day_rate_min_minor: int
    currency: str
    available_from: date | None
    work_mode: str
    travel_km: int
    latitude: float | None
    longitude: float | None
    region: str
    country: str


SkillOffer = tuple[uuid.UUID, int, bool]  # skill, level, attested
Period = tuple[date, date, int]  # start, end, share of time in percent


def _folded(text: str) -> str | None:
    """`text` as regions and countries are compared (trimmed, lowercase); None when empty: never a match."""
    return text.strip().lower() if text else None


def _credit(level: int, attested: bool, minimum: int) -> float:
    """One required skill: full credit at the minimum level, partial below it; declared counts less."""
    weight = 1.0 if attested else DECLARED_CREDIT
    if level >= minimum:
        return weight
    if level > 0:
        return weight * BELOW_LEVEL_CREDIT * level / minimum
    return 0.0


class SeatScorer:
    """One need under one policy, scoring many candidates.

    What every candidate's score shares is computed once (the required skills and their positions,
    the mission's days as ordinals, the budget, the mission's point, the folded region and country,
    the weights); `total` then scores a member without building anything per member (no
    `Candidate`, no notes, no `Score`): matching ranks 200-400 members per seat and explains only
    the few it returns (`explain`). Both run the same code (`_total`), so a ranked total is exactly
    the total its explanation shows.
    """

    def __init__(self, need: Need, policy: Policy = Policy()) -> None:
        self.need, self.policy = need, policy
        self._required = {skill_id: (index, minimum) for index, (skill_id, minimum) in enumerate(need.skills.items())}
        # What each required skill earns when the member lacks it (level 0, not attested).
        self._missing = [_credit(0, False, minimum) for minimum in need.skills.values()]
        self._first, self._last = need.starts_on.toordinal(), need.ends_on.toordinal()
        self._days = self._last - self._first + 1
        self._budget = need.day_rate_minor if need.day_rate_minor is not None and need.day_rate_minor > 0 else None
        self._point = (
            (math.cos(math.radians(need.latitude)), need.latitude, need.longitude)
            if need.latitude is not None and need.longitude is not None
            else None
        )
        self._region, self._country = _folded(need.region), _folded(need.country)
        self._local_weight = MAX_LOCAL_WEIGHT * max(0, min(100, policy.territorial_fairness)) / 100

    def total(self, offer: Offer, skills: Iterable[SkillOffer], periods: Iterable[Period]) -> float:
        """The candidate's total (0-100, rounded as `Score.total`), with nothing explained."""
        return self._total(offer, skills, periods, None)[0]

    def explain(self, candidate: Candidate) -> Score:
        notes: list[str] = []
        skills = [(skill_id, level, attested) for skill_id, (level, attested) in candidate.skills.items()]
        total, components, local_score, km = self._total(candidate, skills, candidate.availability, notes)
        return Score(
            total=total,
            skill_fit=round(components[0], 3),
            availability=round(components[1], 3),
            rate=round(components[2], 3),
            distance=round(components[3], 3),
            local=local_score,
            distance_km=round(km, 1) if km is not None else None,
            notes=notes,
        )

    def _total(
        self, offer: Offer, skills: Iterable[SkillOffer], periods: Iterable[Period], notes: list[str] | None
    ) -> tuple[float, tuple[float, float, float, float], float | None, float | None]:
        km = self._distance(offer)
        fit = self._skill_fit(skills, notes)
        available = self._availability(offer.available_from, periods, notes)
        rate_fit = self._rate(offer, notes)
        distance = self._proximity(offer, km, notes)
        local_weight = self._local_weight
        # The weighted sum in WEIGHTS' order, as `sum()` adds it: the same float as before this class.
        total = (
            0
            + WEIGHTS["skill_fit"] * fit
            + WEIGHTS["availability"] * available
            + WEIGHTS["rate"] * rate_fit
            + WEIGHTS["distance"] * distance
        ) * (1 - local_weight)
        local_score = None
        if local_weight:
            local_score = self._local(offer, km)
            total += local_weight * local_score
            if local_score and notes is not None:
                notes.append("local to the mission (territorial fairness)")
        return round(total * 100, 1), (fit, available, rate_fit, distance), local_score, km

    def _distance(self, offer: Offer) -> float | None:
        point = self._point
        if point is None or offer.latitude is None or offer.longitude is None:
            return None
        cos_phi1, lat1, lon1 = point
        # `distance_km`, with the need's side computed once.
        lat2, lon2 = offer.latitude, offer.longitude
        half_dphi = math.radians(lat2 - lat1) / 2
        half_dlambda = math.radians(lon2 - lon1) / 2
        a = math.sin(half_dphi) ** 2 + cos_phi1 * math.cos(math.radians(lat2)) * math.sin(half_dlambda) ** 2
        return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))

    def _skill_fit(self, skills: Iterable[SkillOffer], notes: list[str] | None) -> float:
        required = self._required
        if not required:
            return 1.0
        credits = self._missing.copy()
        had = attested_count = 0
        for skill_id, level, attested in skills:
            position = required.get(skill_id)
            if position is None:
                continue
            index, minimum = position
            had += 1
            if attested:
                attested_count += 1
            credits[index] = _credit(level, attested, minimum)
        if notes is not None:
            if missing := len(required) - had:
                notes.append(f"{missing} of {len(required)} required skills missing")
            if attested_count:
                notes.append(f"{attested_count} required skills attested by reviews")
        return sum(credits) / len(credits)

    def _availability(self, available_from: date | None, periods: Iterable[Period], notes: list[str] | None) -> float:
        """Share of the mission's days covered, each day at the best share of time offered for it.

        Days are counted as ordinals (plain integers): the same arithmetic as on dates, without
        building a date and a timedelta per breakpoint.
        """
        first, last, days = self._first, self._last, self._days
        if days <= 0:
            return 0.0
        offers: list[tuple[int, int, float]] = []
        for s, e, share in periods:
            begins, ends = s.toordinal(), e.toordinal()
            if begins <= last and ends >= first:
                offers.append((max(begins, first), min(ends, last), share / 100))
        if available_from is not None and (begins := available_from.toordinal()) <= last:
            offers.append((max(begins, first), last, 1.0))
        if not offers:
            if notes is not None:
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
        if share < 1.0 and notes is not None:
            notes.append(f"available for {round(share * 100)}% of the mission's days")
        return share

    def _rate(self, offer: Offer, notes: list[str] | None) -> float:
        budget = self._budget
        if budget is None:
            return 1.0
        if offer.currency != self.need.currency:
            if notes is not None:
                notes.append(f"rates in {offer.currency}, budget in {self.need.currency}")
            return 0.5
        if offer.day_rate_min_minor <= budget:
            return 1.0
        over = (offer.day_rate_min_minor - budget) / budget
        if notes is not None:
            notes.append(f"lowest day rate {round(over * 100)}% above the budget")
        return max(0.0, 1.0 - over)

    def _proximity(self, offer: Offer, km: float | None, notes: list[str] | None) -> float:
        work_mode = self.need.work_mode
        remote_capable = offer.work_mode in ("remote", "hybrid")
        if work_mode == "remote":
            if not remote_capable and notes is not None:
                notes.append("prefers working on site; the mission is remote")
            return 1.0 if remote_capable else 0.8
        if offer.work_mode == "remote":
            if notes is not None:
                notes.append("works remotely only; the mission needs presence")
            on_site = 0.0
        elif km is not None:
            reach = max(offer.travel_km, 1)
            on_site = 1.0 if km <= reach else max(0.0, 1.0 - (km - reach) / reach)
            if km > reach and notes is not None:
                notes.append(f"{distance_band(km)} away, travels {offer.travel_km} km")
        elif self._region is not None and self._region == offer.region.strip().lower():
            on_site = 0.8
        elif self._country is not None and self._country == offer.country.strip().lower():
            on_site = 0.4
        else:
            on_site = 0.1
        if work_mode == "hybrid" and remote_capable:
            return 0.5 + 0.5 * on_site
        return on_site

    def _local(self, offer: Offer, km: float | None) -> float:
        if km is not None:
            return 1.0 if km <= self.policy.local_radius_km else 0.0
        return 1.0 if self._region is not None and self._region == offer.region.strip().lower() else 0.0


def score(need: Need, candidate: Candidate, policy: Policy = Policy()) -> Score:
    """One candidate's score, explained (several candidates for one need: `SeatScorer`)."""
    return SeatScorer(need, policy).explain(candidate)
