"""From rules, electorate, ballots and proxies to a :class:`~governance.result.Result`.

:func:`tally` validates and resolves who counts (:mod:`governance.proxies`), then hands the
anonymous counted ballots to :func:`count`, which is also what :func:`governance.verify` reruns
from a published certificate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from fractions import Fraction
from itertools import chain
from typing import Any

from .canonical import fraction_str
from .counting import (
    Fmt,
    count_approval,
    count_consent,
    count_majority_judgment,
    count_motion,
    count_score,
    count_single,
    lcm_scale,
    normaliser,
    pick_winners,
)
from .errors import InvalidBallot, InvalidElectorate
from .lot import Lot
from .model import RANKED_METHODS, Ballot, Electorate, Method, Proxy, Rules
from .proxies import resolve_ballots
from .ranked import count_instant_runoff, count_schulze
from .result import Result
from .stv import count_stv


def tally(
    rules: Rules,
    electorate: Electorate,
    ballots: Iterable[Ballot],
    proxies: Iterable[Proxy] = (),
    *,
    decision: str | None = None,
    assembly: str | None = None,
) -> Result:
    """Count one decision.

    Args:
        rules: the decision's :class:`~governance.model.Rules`.
        electorate: members eligible when the vote opened.
        ballots: one :class:`~governance.model.Ballot` per member who voted; a proxy holder casts a
            ballot with ``voter=principal, cast_by=holder``.
        proxies: the proxies given for this decision or its assembly.
        decision, assembly: when given, every proxy must be scoped to this decision or assembly.

    Raises:
        InvalidBallot, ProxyViolation, InvalidElectorate: with a clear reason and a machine code.
    """
    ballots = ballots if isinstance(ballots, (list, tuple)) else list(ballots)
    _check_electorate_colleges(rules, electorate)
    resolution = resolve_ballots(rules, electorate, ballots, proxies, decision=decision, assembly=assembly)
    sizes = electorate.college_sizes() if rules.colleges else {}
    sizes = {k: v for k, v in sizes.items() if k is not None}
    try:
        result = _count_grouped(rules, len(electorate), sizes, resolution.grouped, resolution.reasons)
    except InvalidBallot as err:
        choice = getattr(err, "choice", None)
        for b in ballots:
            if b.choice == choice:
                err.voter = b.voter
                break
        raise
    object.__setattr__(result, "attendance", resolution.summary())
    return result


def _check_electorate_colleges(rules: Rules, electorate: Electorate) -> None:
    if not rules.colleges:
        return
    names = {c.name for c in rules.colleges}
    for voter in electorate.voters:
        if voter.college not in names:
            raise InvalidElectorate(f"member {voter.id!r} is in college {voter.college!r}, which the rules do not list")


def count(
    rules: Rules,
    electorate_size: int,
    college_sizes: dict[str, int],
    counted: Counter[tuple[str | None, Any, str | None]],
) -> Result:
    """Count anonymous ballots: ``counted`` maps (college, raw choice, reason) to a number of ballots.

    This is the deterministic core :func:`governance.verify` reruns. ``college_sizes`` gives the
    electorate of each college (used by thresholds based on the electorate).
    """
    use_colleges = bool(rules.colleges)
    keep_reason = rules.method is Method.CONSENT
    raw_by_college: dict[str | None, dict[Any, int]] = {}
    raw_reasons: Counter[tuple[str | None, Any, Any]] = Counter()
    for (college, raw, reason), n in counted.items():
        c = college if use_colleges else None
        group = raw_by_college.get(c)
        if group is None:
            group = raw_by_college[c] = {}
        group[raw] = group.get(raw, 0) + n
        if keep_reason and reason is not None:
            raw_reasons[(c, raw, reason)] += n
    return _count_grouped(rules, electorate_size, college_sizes, raw_by_college, raw_reasons)


def _normalise_all(rules: Rules, norm: Any, raws: list[Any]) -> list[Any]:
    """Normalise distinct raw choices; ranked ballots are checked in bulk when they are plain."""
    if rules.method in RANKED_METHODS and raws and set(map(type, raws)) == {tuple} and () not in raws:
        optset = frozenset(rules.options)
        if optset.issuperset(chain.from_iterable(raws)) and list(map(len, map(frozenset, raws))) == list(
            map(len, raws)
        ):
            return raws  # every ballot a tuple of distinct known option ids: already normal
    return list(map(norm, raws))


def _count_grouped(
    rules: Rules,
    electorate_size: int,
    college_sizes: dict[str, int],
    raw_by_college: dict[str | None, dict[Any, int]],
    raw_reasons: Counter[tuple[str | None, Any, Any]],
) -> Result:
    method = rules.method
    norm = normaliser(rules)
    keep_reason = method is Method.CONSENT
    by_college: dict[str | None, Counter[Any]] = {}
    for c, raws in raw_by_college.items():
        keys = _normalise_all(rules, norm, list(raws))
        merged = dict(zip(keys, raws.values(), strict=True))
        if len(merged) != len(keys):  # different spellings of one ballot (e.g. approval order)
            merged = {}
            for key, n in zip(keys, raws.values(), strict=True):
                merged[key] = merged.get(key, 0) + n
        by_college[c] = Counter(merged)
    if not rules.colleges:
        by_college.setdefault(None, Counter())
    block_reasons: Counter[tuple[str | None, str | None]] = Counter()
    if keep_reason:
        for c, counts in by_college.items():
            if counts["block"]:
                block_reasons[(c, None)] = counts["block"]
        for (c, raw, reason), n in raw_reasons.items():
            if norm(raw) != "block":
                continue
            if not isinstance(reason, str):
                raise InvalidBallot("a block reason must be text", code="invalid_reason")
            block_reasons[(c, reason)] += n
            block_reasons[(c, None)] -= n
        block_reasons = +block_reasons

    participants = sum(sum(c.values()) for c in by_college.values())
    q = rules.quorum
    needed = 0 if q is None else math.ceil(q * electorate_size)
    quorum_met = participants >= needed
    quorum = {
        "required": None if q is None else fraction_str(q),
        "participants": participants,
        "electorate": electorate_size,
        "needed": needed,
        "met": quorum_met,
    }

    from .certificate import canonical_ballots_bytes  # late import: certificate imports tally

    lot = Lot(lambda: canonical_ballots_bytes(rules, by_college, block_reasons))
    blank_key = "blank" if method in (Method.MOTION, Method.CONSENT) else None
    blanks = sum(c[blank_key] for c in by_college.values())
    participation = {"counted": participants, "blank": blanks}

    winners: tuple[str, ...] = ()
    ranking: list[tuple[str, ...]] = []
    if method is Method.MOTION:
        bases = dict(college_sizes) if rules.colleges else {None: electorate_size}
        adopted, details = count_motion(rules, by_college, bases)
        outcome = "adopted" if adopted else "rejected"
    elif method is Method.CONSENT:
        reasons: Counter[str | None] = Counter()
        for (_c, reason), n in block_reasons.items():
            reasons[reason] += n
        adopted, details = count_consent(by_college, reasons)
        outcome = "adopted" if adopted else "rejected"
    else:
        profile, scale, college_info = _weighted_profile(rules, by_college)
        fmt = Fmt(scale)
        if not profile:
            outcome = "no_votes"
            details = {"note": "no ballot expressed a choice"}
        else:
            if method is Method.SINGLE_CHOICE:
                tiers, details = count_single(rules, profile, fmt)
            elif method is Method.APPROVAL:
                tiers, details = count_approval(rules, profile, fmt)
            elif method is Method.SCORE:
                tiers, details = count_score(rules, profile, fmt)
            elif method is Method.MAJORITY_JUDGMENT:
                tiers, details = count_majority_judgment(rules, profile, fmt)
            elif method is Method.SCHULZE:
                tiers, details = count_schulze(rules, profile, fmt)
            elif method is Method.INSTANT_RUNOFF:
                tiers, _winner, details = count_instant_runoff(rules, profile, fmt, lot)
            else:
                tiers, _elected, details = count_stv(rules, profile, lot)
            ranking = tiers
            winners, unresolved = pick_winners(tiers, rules.seats, lot, rules.tie_break)
            outcome = "tie" if unresolved else "elected"
            if unresolved:
                details["unresolved_tie"] = list(unresolved)
        if college_info:
            details["colleges"] = college_info
            details["weights_note"] = "figures are shares of the total college-weighted vote"
    if not quorum_met:
        outcome = "no_quorum"
        winners = ()
    return Result(
        method=method,
        outcome=outcome,
        winners=winners,
        ranking=tuple(ranking),
        quorum=quorum,
        participation=participation,
        details=details,
        tie_breaks=tuple(lot.draws),
        seed=lot.seed,
        rules=rules,
        electorate_size=electorate_size,
        college_sizes=dict(college_sizes),
        by_college=by_college,
        block_reasons=block_reasons,
    )


def _weighted_profile(
    rules: Rules, by_college: dict[str | None, Counter[Any]]
) -> tuple[dict[Any, int], int, list[dict[str, Any]]]:
    """Merge colleges into one integer-weighted profile (see :mod:`governance.counting`)."""
    if not rules.colleges:
        counts = by_college.get(None, Counter())
        return {k: n for k, n in counts.items() if k is not None}, 1, []
    sizes = {
        c.name: sum(n for k, n in by_college.get(c.name, Counter()).items() if k is not None) for c in rules.colleges
    }
    live = sum((c.weight for c in rules.colleges if sizes[c.name]), Fraction(0))
    per_ballot: dict[str, Fraction] = {}
    info = []
    for c in rules.colleges:
        n = sizes[c.name]
        if not n:
            eff = Fraction(0)
        elif rules.empty_college == "redistribute":
            eff = c.weight / live
        else:
            eff = c.weight
        if n:
            per_ballot[c.name] = eff / n
        info.append(
            {"college": c.name, "weight": fraction_str(c.weight), "effective_weight": fraction_str(eff), "ballots": n}
        )
    if not per_ballot:
        return {}, 1, info
    scale = lcm_scale(list(per_ballot.values()))
    profile: dict[Any, int] = {}
    for name, w in per_ballot.items():
        iw = int(w * scale)
        for key, n in by_college[name].items():
            if key is not None:
                profile[key] = profile.get(key, 0) + n * iw
    # Figures are then shown as value / scale: shares of the whole college weight.
    return profile, scale, info
