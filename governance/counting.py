"""Normalisation of ballots and the counts of the non-ranked methods.

Internally a profile is a ``dict`` mapping a *normalised* ballot to an integer weight. Without
colleges the weight is the number of identical ballots. With colleges every ballot of college ``c``
weighs ``w_c / n_c`` (its college's effective weight over the college's ballots), scaled by the least
common multiple of the denominators so that all arithmetic stays in integers; shares shown to
members are exact fractions of the total weight.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from functools import cmp_to_key
from operator import itemgetter
from typing import Any

from .canonical import fraction_str
from .errors import InvalidBallot
from .lot import Lot
from .model import CONSENT_CHOICES, MOTION_CHOICES, Method, Rules

Key = Any  # a normalised ballot


def bad(reason: str, choice: Any, code: str = "invalid_choice") -> InvalidBallot:
    err = InvalidBallot(reason, code=code)
    err.choice = choice  # type: ignore[attr-defined] - lets tally() find whose ballot it was
    return err


# ----------------------------------------------------------------------------- normalisers
# Each returns the normalised key, or None for a blank ballot, or raises InvalidBallot.


def normaliser(rules: Rules) -> Callable[[Any], Key]:
    method = rules.method
    options = rules.options
    optset = frozenset(options)

    if method is Method.MOTION:
        motion = frozenset(MOTION_CHOICES)

        def norm_motion(raw: Any) -> Key:
            if raw is None:
                return "blank"
            if raw.__class__ is str and raw in motion:
                return raw
            raise bad(f"a motion ballot must be one of {', '.join(MOTION_CHOICES)}, got {raw!r}", raw)

        return norm_motion

    if method is Method.CONSENT:
        consent = frozenset(CONSENT_CHOICES)

        def norm_consent(raw: Any) -> Key:
            if raw is None:
                return "blank"
            if raw.__class__ is str and raw in consent:
                return raw
            raise bad(f"a consent ballot must be one of {', '.join(CONSENT_CHOICES)}, got {raw!r}", raw)

        return norm_consent

    if method is Method.SINGLE_CHOICE:

        def norm_single(raw: Any) -> Key:
            if raw is None or raw == "" or raw == ():
                return None
            if raw.__class__ is tuple and len(raw) == 1:
                raw = raw[0]
            if raw.__class__ is str and raw in optset:
                return raw
            if raw.__class__ is tuple:
                raise bad("a single-choice ballot names one option", raw, "too_many_choices")
            raise bad(f"unknown option {raw!r}", raw, "unknown_option")

        return norm_single

    if method is Method.APPROVAL:

        def norm_approval(raw: Any) -> Key:
            if raw is None or raw == ():
                return None
            if raw.__class__ is str:
                raw = (raw,)
            if raw.__class__ is not tuple or not all(o.__class__ is str for o in raw):
                raise bad("an approval ballot is a list of option ids", raw)
            chosen = frozenset(raw)
            if len(chosen) != len(raw):
                raise bad("an option is approved twice", raw, "duplicate_option")
            if not chosen <= optset:
                unknown = sorted(chosen - optset)[0]
                raise bad(f"unknown option {unknown!r}", raw, "unknown_option")
            return tuple(sorted(chosen))

        return norm_approval

    if method in (Method.SCORE, Method.MAJORITY_JUDGMENT):
        index = {o: i for i, o in enumerate(options)}
        sorted_opts = tuple(sorted(options))
        # inverse[i] = where option i sits among the sorted pairs of a complete ballot
        inverse = tuple(sorted_opts.index(o) for o in options)
        if method is Method.SCORE:
            lo, hi = rules.score_range
            values = {v: v for v in range(lo, hi + 1)}
            default = lo
            what = f"a score between {lo} and {hi}"
        else:
            n_grades = len(rules.grades)
            values = {g: n_grades - 1 - i for i, g in enumerate(rules.grades)}  # higher is better
            default = 0
            what = "a grade among " + ", ".join(rules.grades)
        get0, get1 = itemgetter(0), itemgetter(1)

        def norm_graded(raw: Any) -> Key:
            if raw is None or raw == ():
                return None
            if raw.__class__ is not tuple or set(map(type, raw)) != {tuple} or set(map(len, raw)) != {2}:
                raise bad("this ballot maps each option to " + what, raw)
            names = tuple(map(get0, raw))
            marks = tuple(map(get1, raw))
            got = tuple(map(values.get, marks))
            if None in got or (method is Method.SCORE and bool in set(map(type, marks))):
                wrong = next(m for m, g in zip(marks, got, strict=True) if g is None or m.__class__ is bool)
                raise bad(f"{wrong!r} is not {what}", raw, "out_of_range")
            if names == sorted_opts:  # fast path: every option marked once, pairs already sorted
                return tuple(map(got.__getitem__, inverse))
            out = [default] * len(options)
            seen = set()
            for name, val in zip(names, got, strict=True):
                if name not in index:
                    raise bad(f"unknown option {name!r}", raw, "unknown_option")
                if name in seen:
                    raise bad(f"option {name!r} is marked twice", raw, "duplicate_option")
                seen.add(name)
                out[index[name]] = val
            return tuple(out)

        return norm_graded

    # ranked methods
    allow_ties = method is Method.SCHULZE

    def norm_ranked(raw: Any) -> Key:
        if raw is None or raw == ():
            return None
        if raw.__class__ is str:
            raw = (raw,)
        if raw.__class__ is not tuple:
            raise bad("a ranked ballot is a list of option ids, most preferred first", raw)
        flat = frozenset(raw)
        if len(flat) == len(raw) and flat <= optset:  # fast path: distinct known option ids, no ties
            return raw
        out: list[Any] = []
        seen: set[str] = set()
        for item in raw:
            tier = (item,) if item.__class__ is str else item
            if tier.__class__ is not tuple or not tier or not all(o.__class__ is str for o in tier):
                raise bad("each rank holds an option id or a list of option ids", raw)
            if len(tier) > 1 and not allow_ties:
                raise bad(f"{method.value} ballots cannot rank options equally", raw, "tie_not_allowed")
            for o in tier:
                if o not in optset:
                    raise bad(f"unknown option {o!r}", raw, "unknown_option")
                if o in seen:
                    raise bad(f"option {o!r} is ranked twice", raw, "duplicate_ranking")
                seen.add(o)
            out.append(tier[0] if len(tier) == 1 else tuple(sorted(tier)))
        return tuple(out)

    return norm_ranked


def choice_to_json(method: Method, rules: Rules, key: Key) -> Any:
    """The canonical JSON form of a normalised ballot (used in certificates and BLT export)."""
    if key is None or method in (Method.MOTION, Method.CONSENT, Method.SINGLE_CHOICE):
        return key
    if method is Method.APPROVAL:
        return list(key)
    if method is Method.SCORE:
        return dict(zip(rules.options, key, strict=True))
    if method is Method.MAJORITY_JUDGMENT:
        n = len(rules.grades)
        return {o: rules.grades[n - 1 - g] for o, g in zip(rules.options, key, strict=True)}
    return [item if item.__class__ is str else list(item) for item in key]


# ----------------------------------------------------------------------------- shared helpers


class Fmt:
    """Formats profile weights for explanations: ints without colleges, exact shares with them."""

    def __init__(self, scale: int) -> None:
        self.scale = scale

    def __call__(self, value: int) -> int | str:
        if self.scale == 1:
            return value
        return fraction_str(Fraction(value, self.scale))


def tiers_by_score(options: tuple[str, ...], score: Callable[[str], Any]) -> list[tuple[str, ...]]:
    """Group options into tiers of equal score, best first; ties within a tier sorted by id."""
    by: dict[Any, list[str]] = {}
    for o in options:
        by.setdefault(score(o), []).append(o)
    return [tuple(sorted(by[s])) for s in sorted(by, reverse=True)]


def pick_winners(
    tiers: list[tuple[str, ...]], seats: int, lot: Lot, tie_break: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fill ``seats`` from ranked tiers; a tier straddling the last seat is settled by lot.

    Returns (winners, unresolved_tie); ``unresolved_tie`` is non-empty only with ``tie_break="none"``.
    """
    winners: list[str] = []
    for tier in tiers:
        room = seats - len(winners)
        if room <= 0:
            break
        if len(tier) <= room:
            winners.extend(tier)
        elif tie_break == "lot":
            winners.extend(lot.order(tier, f"tie for seat(s) {len(winners) + 1}..{seats}")[:room])
        else:
            return tuple(winners), tier
    return tuple(winners), ()


def share(part: int, whole: int) -> str | None:
    return fraction_str(Fraction(part, whole)) if whole else None


# ----------------------------------------------------------------------------- motion and consent


def count_motion(
    rules: Rules, by_college: dict[str | None, Counter[Key]], college_bases: dict[str | None, int]
) -> tuple[bool, dict[str, Any]]:
    """Count a motion; return (adopted, details). ``college_bases`` are electorate sizes per college."""
    t = rules.threshold

    def cast_of(counts: Counter[Key]) -> int:
        cast = counts["yes"] + counts["no"]
        if rules.abstentions_count_as_cast:
            cast += counts["abstain"]
        if rules.blanks_count_as_cast:
            cast += counts["blank"]
        return cast

    def block(counts: Counter[Key], electorate: int) -> dict[str, Any]:
        cast = cast_of(counts)
        base = cast if t.base == "cast" else electorate
        return {
            "counts": {c: counts[c] for c in MOTION_CHOICES},
            "cast": cast,
            "base": base,
            "yes_share": share(counts["yes"], base),
        }

    total: Counter[Key] = Counter()
    for counts in by_college.values():
        total.update(counts)
    details = block(total, sum(college_bases.values()))
    details["threshold"] = t.to_dict()
    details["threshold_text"] = t.describe()
    details["threshold_share"] = fraction_str(t.share)

    if not rules.colleges:
        base = details["base"]
        yes_share = Fraction(total["yes"], base) if base else None
    else:
        colleges = []
        for college in rules.colleges:
            counts = by_college.get(college.name, Counter())
            info = block(counts, college_bases.get(college.name, 0))
            info["college"] = college.name
            info["weight"] = fraction_str(college.weight)
            info["empty"] = info["base"] == 0
            colleges.append(info)
        live = sum((c.weight for c, i in zip(rules.colleges, colleges, strict=True) if not i["empty"]), Fraction(0))
        yes_share = Fraction(0) if live else None
        for college, info in zip(rules.colleges, colleges, strict=True):
            if info["empty"]:
                eff = Fraction(0)
            elif rules.empty_college == "redistribute":
                eff = college.weight / live
            else:
                eff = college.weight
            info["effective_weight"] = fraction_str(eff)
            if yes_share is not None and not info["empty"]:
                yes_share += eff * Fraction(info["counts"]["yes"], info["base"])
        details["colleges"] = colleges
        details["empty_college_rule"] = rules.empty_college
        details["weighted_yes_share"] = None if yes_share is None else fraction_str(yes_share)

    if yes_share is None:
        adopted = False
        details["note"] = "no votes cast" if t.base == "cast" else "empty electorate"
    else:
        adopted = yes_share > t.share if t.strict else yes_share >= t.share
    details["met"] = adopted
    return adopted, details


def count_consent(
    by_college: dict[str | None, Counter[Key]], reasons: Counter[str | None]
) -> tuple[bool, dict[str, Any]]:
    total: Counter[Key] = Counter()
    for counts in by_college.values():
        total.update(counts)
    blocks = total["block"]
    expressed = sum(total[c] for c in CONSENT_CHOICES if c != "blank")
    details: dict[str, Any] = {
        "counts": {c: total[c] for c in CONSENT_CHOICES},
        "blocks": [
            {"reason": r, "count": n} for r, n in sorted(reasons.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ],
    }
    if len(by_college) > 1 or None not in by_college:
        details["colleges"] = [
            {"college": c, "counts": {k: counts[k] for k in CONSENT_CHOICES}}
            for c, counts in sorted(by_college.items(), key=lambda kv: kv[0] or "")
        ]
    adopted = blocks == 0 and expressed > 0
    if expressed == 0:
        details["note"] = "nobody expressed a position"
    return adopted, details


# ----------------------------------------------------------------------------- plurality, approval, score


def count_single(rules: Rules, profile: dict[Key, int], fmt: Fmt) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    counts = dict.fromkeys(rules.options, 0)
    for key, w in profile.items():
        counts[key] += w
    total = sum(counts.values())
    details = {
        "counts": {o: fmt(n) for o, n in counts.items()},
        "shares": {o: share(n, total) for o, n in counts.items()},
        "total": fmt(total),
    }
    return tiers_by_score(rules.options, counts.__getitem__), details


def count_approval(rules: Rules, profile: dict[Key, int], fmt: Fmt) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    counts = dict.fromkeys(rules.options, 0)
    for key, w in profile.items():
        for o in key:
            counts[o] += w
    total = sum(profile.values())
    details = {
        "approvals": {o: fmt(n) for o, n in counts.items()},
        "shares": {o: share(n, total) for o, n in counts.items()},
        "ballots": fmt(total),
    }
    return tiers_by_score(rules.options, counts.__getitem__), details


def count_score(rules: Rules, profile: dict[Key, int], fmt: Fmt) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    n = len(rules.options)
    totals = [0] * n
    for key, w in profile.items():
        for i in range(n):
            totals[i] += key[i] * w
    ballots = sum(profile.values())
    by_opt = dict(zip(rules.options, totals, strict=True))
    details = {
        "totals": {o: fmt(t) for o, t in by_opt.items()},
        "averages": {o: share(t, ballots) for o, t in by_opt.items()},
        "ballots": fmt(ballots),
        "range": list(rules.score_range),
    }
    return tiers_by_score(rules.options, by_opt.__getitem__), details


# ----------------------------------------------------------------------------- majority judgment


def _lower_median(hist: list[int], total: int) -> int:
    """Lower median grade of a histogram (index = grade value, higher is better)."""
    target = (total - 1) // 2  # 0-based position from the worst grade
    acc = 0
    for grade, n in enumerate(hist):
        acc += n
        if acc > target:
            return grade
    raise AssertionError("empty histogram")


def _median_sequence(hist: list[int], total: int):
    """Successive lower medians, removing one median grade each time (Balinski-Laraki majority value)."""
    h = list(hist)
    for remaining in range(total, 0, -1):
        g = _lower_median(h, remaining)
        yield g
        h[g] -= 1


def _compare_majority_values(a: list[int], b: list[int], total: int) -> int:
    for x, y in zip(_median_sequence(a, total), _median_sequence(b, total), strict=True):
        if x != y:
            return 1 if x > y else -1
    return 0


def count_majority_judgment(
    rules: Rules, profile: dict[Key, int], fmt: Fmt
) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    options = rules.options
    n_grades = len(rules.grades)
    hists = [[0] * n_grades for _ in options]
    items = list(profile.items())
    if all(w == 1 for _, w in items):
        keys = [k for k, _ in items]
        for i, hist in enumerate(hists):
            for g, n in Counter(map(itemgetter(i), keys)).items():
                hist[g] += n
    else:
        for key, w in items:
            for i, g in enumerate(key):
                hists[i][g] += w
    total = sum(profile.values())

    def grade_name(g: int) -> str:
        return rules.grades[n_grades - 1 - g]

    gauges: dict[str, tuple[int, int, int]] = {}
    per_option: dict[str, Any] = {}
    for o, hist in zip(options, hists, strict=True):
        alpha = _lower_median(hist, total)
        better = sum(hist[alpha + 1 :])
        worse = sum(hist[:alpha])
        if better > worse:
            gauge = (alpha, 1, better)
            sign = "+"
        else:
            gauge = (alpha, -1, -worse)
            sign = "-"
        gauges[o] = gauge
        per_option[o] = {
            "majority_grade": grade_name(alpha),
            "better_share": share(better, total),
            "worse_share": share(worse, total),
            "gauge": sign,
            "grades": {grade_name(g): fmt(hist[g]) for g in range(n_grades - 1, -1, -1)},
        }
    hist_of = dict(zip(options, hists, strict=True))
    tiers = []
    for tier in tiers_by_score(options, gauges.__getitem__):
        if len(tier) == 1:
            tiers.append(tier)
            continue

        # Same majority grade and gauge: Balinski-Laraki's majority value decides (it may still tie).
        def cmp(a: str, b: str) -> int:
            return -_compare_majority_values(hist_of[a], hist_of[b], total)

        ordered = sorted(tier, key=cmp_to_key(cmp))
        group = [ordered[0]]
        for o in ordered[1:]:
            if cmp(group[-1], o) == 0:
                group.append(o)
            else:
                tiers.append(tuple(sorted(group)))
                group = [o]
        tiers.append(tuple(sorted(group)))
    details = {"ballots": fmt(total), "grades": list(rules.grades), "options": per_option}
    return tiers, details


def lcm_scale(weights: list[Fraction]) -> int:
    scale = 1
    for w in weights:
        scale = math.lcm(scale, w.denominator)
    return scale
