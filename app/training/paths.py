"""Choosing trainings that close a skills gap at the least total duration (or cost): a weighted set cover.

Owns the planning arithmetic only: pure functions over plain values, no database, no HTTP.

A training *covers* a gap skill when it teaches it to at least the required level. Among the
trainings covering something, the planner looks for the set covering every coverable skill whose
weight is least, the weight being (duration, cost, number of trainings) compared in that order when
optimising duration, (cost, duration, number) when optimising cost. The search is exact (branch and
bound: branch on the uncovered skill with fewest covering trainings, prune with the admissible
bound "weight so far + the dearest of the uncovered skills' cheapest covers") while at most
EXACT_MAX_TRAININGS trainings are relevant and the search stays within EXACT_MAX_NODES nodes;
otherwise the greedy answer (least weight per newly covered skill, the classic ln(n)-approximation)
is returned, improved by whatever the cut-short search found, and said to be "greedy".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

EXACT_MAX_TRAININGS = 40
EXACT_MAX_NODES = 200_000

Weight = tuple[int, int, int]


@dataclass(frozen=True)
class Offer:
    """A training as the planner sees it: what it costs and what it teaches (skill -> level reached)."""

    id: str
    title: str
    duration_hours: int
    cost_minor: int
    teaches: Mapping[str, int]


@dataclass(frozen=True)
class SkillPlan:
    skill: str
    current: int
    required: int
    status: str  # met, covered, uncovered
    by: str | None = None  # the chosen training's id, when covered
    reached: int | None = None  # the level that training teaches
    best_available: int | None = None  # when uncovered: the highest level any training teaches, if any


@dataclass(frozen=True)
class Plan:
    steps: list[Offer]
    skills: list[SkillPlan]
    method: str  # exact, greedy
    total_hours: int = 0
    total_cost_minor: int = 0
    explored: int = 0
    uncovered: list[str] = field(default_factory=list)


def weight(offer: Offer, optimise: str) -> Weight:
    if optimise == "cost":
        return (offer.cost_minor, offer.duration_hours, 1)
    return (offer.duration_hours, offer.cost_minor, 1)


def _add(a: Weight, b: Weight) -> Weight:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def plan(
    target: Mapping[str, int],
    current: Mapping[str, int],
    offers: Iterable[Offer],
    *,
    optimise: str = "duration",
    exact_max_trainings: int = EXACT_MAX_TRAININGS,
    exact_max_nodes: int = EXACT_MAX_NODES,
) -> Plan:
    """The ordered path closing `target` (skill -> required level) from `current` (skill -> level)."""
    offers = sorted(offers, key=lambda o: o.id)
    gap = {skill: level for skill, level in target.items() if current.get(skill, 0) < level}
    covers: dict[str, frozenset[str]] = {
        offer.id: frozenset(s for s, level in gap.items() if offer.teaches.get(s, 0) >= level) for offer in offers
    }
    relevant = [offer for offer in offers if covers[offer.id]]
    coverable = frozenset().union(*(covers[o.id] for o in relevant)) if relevant else frozenset()
    weights = {offer.id: weight(offer, optimise) for offer in relevant}

    chosen = _greedy(coverable, relevant, covers, weights)
    method, explored = "greedy", 0
    if len(relevant) <= exact_max_trainings:
        best, explored, complete = _branch_and_bound(coverable, relevant, covers, weights, chosen, exact_max_nodes)
        chosen = best
        method = "exact" if complete else "greedy"
    steps = _order(chosen, gap)
    return Plan(
        steps=steps,
        skills=_explain(target, current, gap, steps, offers),
        method=method,
        total_hours=sum(o.duration_hours for o in steps),
        total_cost_minor=sum(o.cost_minor for o in steps),
        explored=explored,
        uncovered=sorted(set(gap) - coverable),
    )


def _total(chosen: Sequence[Offer], weights: Mapping[str, Weight]) -> Weight:
    total: Weight = (0, 0, 0)
    for offer in chosen:
        total = _add(total, weights[offer.id])
    return total


def _greedy(
    coverable: frozenset[str],
    relevant: list[Offer],
    covers: Mapping[str, frozenset[str]],
    weights: Mapping[str, Weight],
) -> list[Offer]:
    left, chosen = set(coverable), []
    while left:
        best = min(
            (o for o in relevant if covers[o.id] & left),
            key=lambda o: (weights[o.id][0] / len(covers[o.id] & left), weights[o.id][1], o.id),
        )
        chosen.append(best)
        left -= covers[best.id]
    return chosen


def _branch_and_bound(
    coverable: frozenset[str],
    relevant: list[Offer],
    covers: Mapping[str, frozenset[str]],
    weights: Mapping[str, Weight],
    incumbent: list[Offer],
    max_nodes: int,
) -> tuple[list[Offer], int, bool]:
    by_skill = {
        skill: sorted((o for o in relevant if skill in covers[o.id]), key=lambda o: (weights[o.id], o.id))
        for skill in coverable
    }
    cheapest = {skill: weights[options[0].id] for skill, options in by_skill.items()}
    best: list[Offer] = list(incumbent)
    best_weight = _total(best, weights)
    nodes = 0
    complete = True

    def search(left: frozenset[str], chosen: list[Offer], spent: Weight) -> None:
        nonlocal best, best_weight, nodes, complete
        nodes += 1
        if nodes > max_nodes:
            complete = False
            return
        if not left:
            if spent < best_weight:
                best, best_weight = list(chosen), spent
            return
        bound = _add(spent, max(cheapest[skill] for skill in left))
        if bound >= best_weight:
            return
        pivot = min(left, key=lambda skill: (len(by_skill[skill]), skill))
        for offer in by_skill[pivot]:
            if offer in chosen:
                continue
            chosen.append(offer)
            search(left - covers[offer.id], chosen, _add(spent, weights[offer.id]))
            chosen.pop()
            if not complete:
                return

    if coverable:
        search(coverable, [], (0, 0, 0))
    return best, nodes, complete


def _order(chosen: Sequence[Offer], gap: Mapping[str, int]) -> list[Offer]:
    """Foundations first: the training teaching the lowest required level comes first, then the shorter."""

    def key(offer: Offer) -> tuple[int, int, str, str]:
        levels = [gap[s] for s, level in offer.teaches.items() if s in gap and level >= gap[s]]
        return (min(levels, default=9), offer.duration_hours, offer.title, offer.id)

    return sorted(chosen, key=key)


def _explain(
    target: Mapping[str, int],
    current: Mapping[str, int],
    gap: Mapping[str, int],
    steps: Sequence[Offer],
    offers: Sequence[Offer],
) -> list[SkillPlan]:
    explained = []
    for skill in sorted(target, key=lambda s: (s not in gap, s)):
        required, have = target[skill], current.get(skill, 0)
        if skill not in gap:
            explained.append(SkillPlan(skill, have, required, "met"))
            continue
        by = next((o for o in steps if o.teaches.get(skill, 0) >= required), None)
        if by is not None:
            explained.append(SkillPlan(skill, have, required, "covered", by=by.id, reached=by.teaches[skill]))
            continue
        best = max((o.teaches[skill] for o in offers if skill in o.teaches), default=None)
        explained.append(SkillPlan(skill, have, required, "uncovered", best_available=best))
    return explained
