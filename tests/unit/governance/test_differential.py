"""Differential tests against independent implementations (test-only dependencies).

* ``pref_voting``: plurality, instant-runoff, Schulze (its ``beat_path``, which uses margins) and
  approval winners, and majority judgment, on 2000 random profiles of 3-5 candidates and 5-40
  voters with complete linear orders. Where several candidates tie, pref_voting returns them all,
  whereas we return a ranking in tiers (then draw lots); we compare our first tier with its set.
  Exceptions: instant-runoff profiles where *we* met a tie for last place are skipped, because
  pref_voting then eliminates every tied candidate at once while we draw one by lot; for majority
  judgment we break gauge ties further by Balinski-Laraki's majority value, so our first tier is
  only required to be a subset of pref_voting's winners.
* ``stvpoll``'s Scottish STV, on random truncated ballots. Skipped: profiles where either count
  met a tie (stvpoll looks back to the most recent stage, the Scottish rules to the earliest, and
  the lots differ), and profiles where several candidates reach the quota at the same stage
  (stvpoll then lets one's surplus flow to another elected candidate, whereas rule 48 transfers
  only to continuing candidates). A remaining known difference is bounded rather than hidden:
  stvpoll rounds transfer multipliers half-even to 5 decimals where the Scottish rule truncates.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

pytest.importorskip("pref_voting")
pytest.importorskip("stvpoll")

from pref_voting.grade_methods import approval as pv_approval
from pref_voting.grade_methods import majority_judgement as pv_mj
from pref_voting.grade_profiles import GradeProfile
from pref_voting.iterative_methods import instant_runoff as pv_irv
from pref_voting.margin_based_methods import beat_path as pv_schulze
from pref_voting.profiles import Profile
from pref_voting.scoring_methods import plurality as pv_plurality

from governance import Rules, count
from governance.model import freeze

PROFILES = 2000


def _counted(choices: list) -> Counter:
    return Counter((None, c, None) for c in choices)


def _random_profiles(seed: int):
    rng = random.Random(seed)
    for _ in range(PROFILES):
        n_cands = rng.randint(3, 5)
        n_voters = rng.randint(5, 40)
        # A few ballot types repeated, so that the profiles have structure rather than pure noise.
        types = [rng.sample(range(n_cands), n_cands) for _ in range(rng.randint(2, 6))]
        ballots = [
            list(rng.choice(types)) if rng.random() < 0.7 else rng.sample(range(n_cands), n_cands)
            for _ in range(n_voters)
        ]
        yield n_cands, ballots, rng


def names(n: int) -> tuple[str, ...]:
    return tuple(f"c{i}" for i in range(n))


def test_ranked_methods_agree_with_pref_voting() -> None:
    compared = Counter()
    skipped_irv = 0
    for n, ballots, _rng in _random_profiles(2024):
        opts = names(n)
        prof = Profile(ballots)
        ranked = [tuple(f"c{c}" for c in b) for b in ballots]

        plurality = count(
            Rules(method="single_choice", options=opts), n * 0 + len(ballots), {}, _counted([r[0] for r in ranked])
        )
        assert set(plurality.ranking[0]) == {f"c{c}" for c in pv_plurality(prof)}
        compared["plurality"] += 1

        for strength in ("winning_votes", "margins"):
            schulze = count(
                Rules(method="schulze", options=opts, schulze_strength=strength), len(ballots), {}, _counted(ranked)
            )
            assert set(schulze.ranking[0]) == {f"c{c}" for c in pv_schulze(prof)}, (ballots, strength)
        compared["schulze"] += 1

        irv = count(Rules(method="instant_runoff", options=opts), len(ballots), {}, _counted(ranked))
        if irv.tie_breaks:
            skipped_irv += 1
        else:
            assert [f"c{c}" for c in pv_irv(prof)] == list(irv.winners), ballots
            compared["irv"] += 1
    assert compared["plurality"] == compared["schulze"] == PROFILES
    assert compared["irv"] >= PROFILES * 0.6, (compared, skipped_irv)


def test_approval_and_majority_judgment_agree_with_pref_voting() -> None:
    rng = random.Random(7)
    mj_strict = 0
    for _ in range(PROFILES):
        n = rng.randint(3, 5)
        voters = rng.randint(5, 40)
        opts = names(n)
        approvals = [[c for c in range(n) if rng.random() < 0.4] for _ in range(voters)]
        gprof = GradeProfile([{c: 1 for c in a} for a in approvals], [0, 1], candidates=list(range(n)))
        ours = count(
            Rules(method="approval", options=opts), voters, {}, _counted([tuple(f"c{c}" for c in a) for a in approvals])
        )
        if ours.outcome == "no_votes":
            continue
        assert set(ours.ranking[0]) == {f"c{c}" for c in pv_approval(gprof)}

        grades = ("excellent", "very_good", "good", "fair", "poor", "reject")
        marks = [{c: rng.randint(0, 5) for c in range(n)} for _ in range(voters)]
        gp = GradeProfile(marks, [0, 1, 2, 3, 4, 5], candidates=list(range(n)))
        mj = count(
            Rules(method="majority_judgment", options=opts),
            voters,
            {},
            _counted([freeze({f"c{c}": grades[5 - g] for c, g in m.items()}) for m in marks]),
        )
        theirs = {f"c{c}" for c in pv_mj(gp)}
        if len(theirs) == 1:
            assert set(mj.ranking[0]) == theirs, marks
            mj_strict += 1
        else:
            assert set(mj.ranking[0]) <= theirs
    assert mj_strict >= PROFILES * 0.8


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_stv_agrees_with_stvpoll_scottish_stv() -> None:
    from stvpoll.scottish_stv import calculate_scottish_stv
    from stvpoll.types import SelectionMethod

    rng = random.Random(1947)
    compared = skipped = together = mismatched = 0
    for _ in range(PROFILES):
        n = rng.randint(3, 6)
        seats = rng.randint(1, min(3, n - 1))
        voters = rng.randint(5, 40)
        opts = names(n)
        types = [tuple(rng.sample(opts, rng.randint(1, n))) for _ in range(rng.randint(2, 6))]
        ballots = [
            rng.choice(types) if rng.random() < 0.6 else tuple(rng.sample(opts, rng.randint(1, n)))
            for _ in range(voters)
        ]
        ours = count(Rules(method="stv", options=opts, seats=seats), voters, {}, _counted(ballots))
        theirs = calculate_scottish_stv(opts, dict(Counter(ballots)), seats, random_shuffle=False)
        tie_methods = {SelectionMethod.TiebreakHistory, SelectionMethod.TiebreakRandom}
        if (
            ours.tie_breaks
            or ours.details["ties_settled_by_earlier_stages"]
            or any(r.selection_method in tie_methods for r in theirs.rounds)
        ):
            skipped += 1
            continue
        if any(len(s.get("elected", [])) > 1 and "note" not in s for s in ours.details["stages"]):
            together += 1  # several reached the quota at one stage: stvpoll transfers between them
            continue
        compared += 1
        if set(ours.winners) != set(theirs):
            mismatched += 1
    assert compared >= PROFILES * 0.4, (compared, skipped, together)
    # With seed 1947: 1030 compared, 628 skipped for ties, 342 for simultaneous election, and 2
    # mismatches, both analysed by hand as the rounding difference: e.g. a surplus of 1 over 6
    # papers moves at 0.16666 (Scottish truncation) against stvpoll's 0.16667, so 6 papers bring
    # 0.99996 instead of 1.00002, and the order of two candidates at 4 votes flips.
    assert mismatched <= compared * 0.005, (mismatched, compared)
