"""The path planner on small catalogues whose optimal answers are known (and checked by brute force)."""

from __future__ import annotations

import itertools
import random

from app.training.paths import Offer, plan, weight


def offer(id: str, hours: int, cost: int, **teaches: int) -> Offer:
    return Offer(id=id, title=id, duration_hours=hours, cost_minor=cost, teaches=teaches)


def ids(result) -> list[str]:
    return sorted(o.id for o in result.steps)


def test_the_greedy_trap_is_avoided_by_the_exact_search() -> None:
    # Greedy takes T (2 h per skill) then needs A and B anyway: 22 h. The optimum is A + B: 14 h.
    catalogue = [
        offer("T", 8, 100, a=3, b=3, c=3, d=3),
        offer("A", 7, 100, a=3, b=3, e=3),
        offer("B", 7, 100, c=3, d=3, f=3),
    ]
    target = dict.fromkeys("abcdef", 3)
    exact = plan(target, {}, catalogue)
    assert exact.method == "exact" and ids(exact) == ["A", "B"] and exact.total_hours == 14
    greedy = plan(target, {}, catalogue, exact_max_trainings=0)
    assert greedy.method == "greedy" and ids(greedy) == ["A", "B", "T"] and greedy.total_hours == 22


def test_duration_or_cost_choose_different_paths() -> None:
    catalogue = [
        offer("intensive", 35, 250_000, python=4),
        offer("evening", 120, 60_000, python=4),
        offer("intro", 10, 10_000, python=2),
    ]
    assert ids(plan({"python": 4}, {"python": 1}, catalogue, optimise="duration")) == ["intensive"]
    assert ids(plan({"python": 4}, {"python": 1}, catalogue, optimise="cost")) == ["evening"]


def test_levels_met_too_low_and_missing_are_each_explained() -> None:
    catalogue = [offer("django", 21, 90_000, django=3, python=2), offer("sql", 14, 50_000, sql=4)]
    result = plan({"python": 3, "django": 3, "sql": 2, "docker": 2, "git": 1}, {"git": 2}, catalogue)
    by_skill = {item.skill: item for item in result.skills}
    assert by_skill["git"].status == "met"
    assert by_skill["django"].status == "covered" and by_skill["django"].by == "django"
    assert by_skill["sql"].status == "covered" and by_skill["sql"].reached == 4
    assert by_skill["python"].status == "uncovered" and by_skill["python"].best_available == 2
    assert by_skill["docker"].status == "uncovered" and by_skill["docker"].best_available is None
    assert result.uncovered == ["docker", "python"]
    assert ids(result) == ["django", "sql"]


def test_steps_come_foundations_first() -> None:
    catalogue = [offer("advanced", 10, 0, react=4), offer("basics", 30, 0, html=2)]
    result = plan({"react": 4, "html": 2}, {}, catalogue)
    assert [o.id for o in result.steps] == ["basics", "advanced"]


def test_nothing_to_do_when_the_target_is_met() -> None:
    result = plan({"python": 3}, {"python": 4}, [offer("python", 10, 0, python=5)])
    assert result.steps == [] and result.method == "exact" and result.skills[0].status == "met"


def _brute_force(target: dict[str, int], catalogue: list[Offer], optimise: str):
    coverable = {s for s, lvl in target.items() if any(o.teaches.get(s, 0) >= lvl for o in catalogue)}
    best = None
    for size in range(len(catalogue) + 1):
        for subset in itertools.combinations(catalogue, size):
            covered = {s for o in subset for s, lvl in target.items() if o.teaches.get(s, 0) >= lvl}
            if covered >= coverable:
                total = tuple(map(sum, zip(*(weight(o, optimise) for o in subset), strict=False))) or (0, 0, 0)
                if best is None or total < best:
                    best = total
    return best


def test_branch_and_bound_matches_brute_force_on_random_catalogues() -> None:
    rng = random.Random(20261202)
    skills = [f"s{i}" for i in range(8)]
    for _ in range(60):
        catalogue = [
            offer(
                f"t{i}",
                rng.randint(1, 40),
                rng.randint(0, 5) * 10_000,
                **{s: rng.randint(1, 5) for s in rng.sample(skills, rng.randint(1, 4))},
            )
            for i in range(rng.randint(1, 9))
        ]
        target = {s: rng.randint(1, 4) for s in rng.sample(skills, rng.randint(1, 6))}
        optimise = rng.choice(["duration", "cost"])
        result = plan(target, {}, catalogue, optimise=optimise)
        found = tuple(map(sum, zip(*(weight(o, optimise) for o in result.steps), strict=False))) or (0, 0, 0)
        assert result.method == "exact"
        assert found == _brute_force(target, catalogue, optimise)
