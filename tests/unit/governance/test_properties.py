"""Property tests (hypothesis): invariances every count must respect."""

from __future__ import annotations

import random
from fractions import Fraction

from helpers import electorate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import Ballot, Rules, Threshold, certify, tally, verify

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPTIONS = ("a", "b", "c", "d")
GRADES = ("excellent", "very_good", "good", "fair", "poor", "reject")
CHOICE_METHODS = ("single_choice", "approval", "score", "majority_judgment", "instant_runoff", "schulze", "stv")


def choice_strategy(method: str, options: tuple[str, ...]) -> st.SearchStrategy:
    opt = st.sampled_from(options)
    if method == "motion":
        return st.sampled_from(["yes", "no", "abstain", "blank"])
    if method == "consent":
        return st.sampled_from(["agree", "abstain", "disagree", "block"])
    if method == "single_choice":
        return st.one_of(st.none(), opt)
    if method == "approval":
        return st.lists(opt, unique=True).map(tuple)
    if method == "score":
        return st.dictionaries(opt, st.integers(0, 5))
    if method == "majority_judgment":
        return st.dictionaries(opt, st.sampled_from(GRADES))
    if method == "schulze":
        return st.permutations(options).flatmap(
            lambda perm: st.integers(0, len(perm)).map(
                lambda k: tuple(perm[:k]) + ((tuple(perm[k:]),) if len(perm) - k > 1 else ())
            )
        )
    return st.permutations(options).flatmap(lambda perm: st.integers(0, len(perm)).map(lambda k: tuple(perm[:k])))


@st.composite
def decision(draw: st.DrawFn, methods: tuple[str, ...] = ("motion", "consent", *CHOICE_METHODS)):
    method = draw(st.sampled_from(methods))
    n_opts = draw(st.integers(2, 4))
    options = OPTIONS[:n_opts]
    if method in ("motion", "consent"):
        rules = Rules(method=method)
        options = ()
    else:
        seats = draw(st.integers(1, n_opts - 1)) if method in ("stv", "approval") else 1
        rules = Rules(method=method, options=options, seats=seats)
    choices = draw(st.lists(choice_strategy(method, options or ("x",)), max_size=25))
    return rules, choices


def ballots_of(choices: list) -> list[Ballot]:
    return [Ballot(f"v{i}", c) for i, c in enumerate(choices)]


@SETTINGS
@given(decision(), st.randoms(use_true_random=False))
def test_permuting_ballots_changes_nothing(case: tuple, rnd: random.Random) -> None:
    rules, choices = case
    first = tally(rules, electorate(len(choices)), ballots_of(choices))
    shuffled = list(choices)
    rnd.shuffle(shuffled)
    second = tally(rules, electorate(len(choices)), ballots_of(shuffled))
    assert first.to_dict() == second.to_dict()
    assert verify(certify(first))


@SETTINGS
@given(decision(methods=CHOICE_METHODS))
def test_renaming_candidates_renames_the_result(case: tuple) -> None:
    rules, choices = case
    rename = {o: f"opt-{o.upper()}" for o in rules.options}

    def mapped(choice: object) -> object:
        if choice is None:
            return None
        if isinstance(choice, str):
            return rename[choice]
        if isinstance(choice, dict):
            return {rename[o]: v for o, v in choice.items()}
        return tuple(mapped(c) for c in choice)

    renamed_rules = Rules.from_dict({**rules.to_dict(), "options": [rename[o] for o in rules.options]})
    e = electorate(len(choices))
    original = tally(rules, e, ballots_of(choices))
    renamed = tally(renamed_rules, e, ballots_of([mapped(c) for c in choices]))
    assert renamed.outcome == original.outcome
    if original.tie_breaks or renamed.tie_breaks:
        return  # a lot is seeded by the ballots' names: only the pre-lot ranking must follow
    assert [sorted(rename[o] for o in tier) for tier in original.ranking] == [sorted(t) for t in renamed.ranking]
    assert tuple(rename[o] for o in original.winners) == renamed.winners


@SETTINGS
@given(st.lists(st.permutations(OPTIONS), min_size=1, max_size=30))
def test_condorcet_winner_always_wins_schulze(profile: list) -> None:
    def beats(x: str, y: str) -> bool:
        return sum(b.index(x) < b.index(y) for b in profile) * 2 > len(profile)

    winners = [x for x in OPTIONS if all(beats(x, y) for y in OPTIONS if y != x)]
    result = tally(
        Rules(method="schulze", options=OPTIONS), electorate(len(profile)), ballots_of([tuple(b) for b in profile])
    )
    if winners:
        assert result.ranking[0] == (winners[0],)
        assert result.winners == (winners[0],)


UNANIMOUS = {
    "single_choice": "c",
    "approval": ("c",),
    "score": {"c": 5},
    "majority_judgment": {"c": "excellent"},
    "instant_runoff": ("c", "a"),
    "schulze": ("c",),
    "stv": ("c", "b"),
}


@SETTINGS
@given(st.sampled_from(CHOICE_METHODS), st.integers(1, 40), st.sampled_from([0, 1]))
def test_unanimity_wins_every_method(method: str, n: int, extra: int) -> None:
    rules = Rules(method=method, options=OPTIONS)
    result = tally(rules, electorate(n), ballots_of([UNANIMOUS[method]] * n))
    assert result.winners == ("c",) and result.tie_breaks == ()
    motion = tally(Rules(method="motion"), electorate(n + extra), ballots_of(["yes"] * n))
    assert motion.outcome == "adopted"


@SETTINGS
@given(
    st.lists(st.sampled_from(["yes", "no", "abstain", "blank"]), max_size=40),
    st.integers(0, 30),
    st.sampled_from(["simple_majority", "two_thirds", "three_quarters", "unanimity"]),
)
def test_adding_abstentions_never_changes_a_motion(choices: list, extra: int, threshold: str) -> None:
    rules = Rules.from_dict({"method": "motion", "threshold": threshold})
    before = tally(rules, electorate(len(choices) + extra), ballots_of(choices))
    after = tally(rules, electorate(len(choices) + extra), ballots_of(choices + ["abstain"] * extra))
    assert before.outcome == after.outcome


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 6))
def test_thresholds_exactly_at_the_boundary(num: int, den: int, k: int) -> None:
    """yes / cast == share exactly: "at least" adopts, "more than" rejects; one yes fewer rejects."""
    share = Fraction(min(num, den), den)
    yes = share.numerator * k
    no = (share.denominator - share.numerator) * k
    at_least = Rules(method="motion", threshold=Threshold(share, strict=False))
    choices = ["yes"] * yes + ["no"] * no
    assert tally(at_least, electorate(len(choices)), ballots_of(choices)).outcome == "adopted"
    fewer = ["yes"] * (yes - 1) + ["no"] * (no + 1)
    assert tally(at_least, electorate(len(fewer)), ballots_of(fewer)).outcome == "rejected"
    if share < 1:
        more_than = Rules(method="motion", threshold=Threshold(share, strict=True))
        assert tally(more_than, electorate(len(choices)), ballots_of(choices)).outcome == "rejected"
