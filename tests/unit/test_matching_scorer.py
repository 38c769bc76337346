"""Matching ranks members by `SeatScorer.total` and explains the returned ones with `explain`: the two
must agree exactly, or a member would be ranked on one figure and shown another."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from app.missions.matching import Candidate, Need, Policy, SeatScorer, score

SKILLS = [uuid.UUID(int=n) for n in range(1, 9)]
REGIONS = ["Bretagne", " bretagne ", "Occitanie", "", "  "]
MODES = ["remote", "hybrid", "on_site"]


def _day(rng: random.Random) -> date:
    return date(2027, 1, 1) + timedelta(days=rng.randint(-60, 200))


def _point(rng: random.Random) -> tuple[float | None, float | None]:
    return (None, None) if rng.random() < 0.3 else (rng.uniform(42, 51), rng.uniform(-5, 8))


def _case(rng: random.Random) -> tuple[Need, Candidate, Policy]:
    starts = _day(rng)
    latitude, longitude = _point(rng)
    need = Need(
        skills={skill: rng.randint(0, 5) for skill in rng.sample(SKILLS, rng.randint(0, 4))},
        day_rate_minor=rng.choice([None, 0, 40000, 80000]),
        currency=rng.choice(["EUR", "EUR", "CHF"]),
        starts_on=starts,
        ends_on=starts + timedelta(days=rng.randint(-3, 120)),
        work_mode=rng.choice(MODES),
        latitude=latitude,
        longitude=longitude,
        region=rng.choice(REGIONS),
        country=rng.choice(["FR", "fr ", "BE", ""]),
    )
    periods = []
    for _ in range(rng.choice([0, 1, 1, 2, 4])):
        begins = _day(rng)
        periods.append((begins, begins + timedelta(days=rng.randint(-2, 90)), rng.choice([20, 50, 100])))
    latitude, longitude = _point(rng)
    candidate = Candidate(
        skills={skill: (rng.randint(0, 5), rng.random() < 0.3) for skill in rng.sample(SKILLS, rng.randint(0, 6))},
        day_rate_min_minor=rng.randint(20000, 120000),
        currency=rng.choice(["EUR", "EUR", "CHF"]),
        available_from=rng.choice([None, _day(rng)]),
        availability=periods,
        work_mode=rng.choice(MODES),
        travel_km=rng.choice([0, 10, 50, 200]),
        latitude=latitude,
        longitude=longitude,
        region=rng.choice(REGIONS),
        country=rng.choice(["FR", "BE"]),
    )
    return need, candidate, Policy(rng.choice([0, 30, 100, 150]), rng.choice([10, 50, 300]))


def test_the_ranked_total_is_the_explained_total() -> None:
    rng = random.Random(10)
    for _ in range(3000):
        need, candidate, policy = _case(rng)
        skills = [(skill, level, attested) for skill, (level, attested) in candidate.skills.items()]
        explained = score(need, candidate, policy)
        assert SeatScorer(need, policy).total(candidate, skills, candidate.availability) == explained.total
        assert 0 <= explained.total <= 100
