"""Ballot validation and the choice methods' edge cases."""

from __future__ import annotations

import pytest
from helpers import run

from governance import Ballot, Electorate, InvalidBallot, Rules, tally, to_blt

E = Electorate.of(["a", "b", "c"])


@pytest.mark.parametrize(
    ("method", "choice", "code"),
    [
        ("single_choice", "q", "unknown_option"),
        ("single_choice", ("x", "y"), "too_many_choices"),
        ("approval", ("x", "x"), "duplicate_option"),
        ("approval", ("x", "q"), "unknown_option"),
        ("score", {"x": 6}, "out_of_range"),
        ("score", {"x": -1}, "out_of_range"),
        ("score", {"x": True}, "out_of_range"),
        ("score", {"q": 3}, "unknown_option"),
        ("majority_judgment", {"x": "superb"}, "out_of_range"),
        ("instant_runoff", ("x", "x"), "duplicate_ranking"),
        ("instant_runoff", ("x", "q"), "unknown_option"),
        ("instant_runoff", (("x", "y"), "z"), "tie_not_allowed"),
        ("stv", ("x", ("y", "z")), "tie_not_allowed"),
        ("schulze", ("x", ("y", "x")), "duplicate_ranking"),
        ("schulze", ("x", "nobody"), "unknown_option"),
    ],
)
def test_invalid_ballots_are_rejected_clearly(method: str, choice: object, code: str) -> None:
    rules = Rules(method=method, options=("x", "y", "z"))
    with pytest.raises(InvalidBallot) as err:
        tally(rules, E, [Ballot("a", None), Ballot("b", choice)])
    assert err.value.code == code
    assert err.value.voter == "b"
    assert err.value.reason


@pytest.mark.parametrize(
    "method", ["single_choice", "approval", "score", "majority_judgment", "instant_runoff", "schulze", "stv"]
)
def test_empty_ballot_box_and_all_blank(method: str) -> None:
    rules = Rules(method=method, options=("x", "y"))
    assert run(rules, [], size=3).outcome == "no_votes"
    result = run(rules, [(3, None)])
    assert result.outcome == "no_votes" and result.participation == {"counted": 3, "blank": 3}
    assert result.winners == ()


@pytest.mark.parametrize(
    ("method", "choice"),
    [
        ("single_choice", "y"),
        ("approval", ("y",)),
        ("score", {"y": 5}),
        ("majority_judgment", {"y": "excellent"}),
        ("instant_runoff", ("y",)),
        ("schulze", ("y",)),
        ("stv", ("y",)),
    ],
)
def test_one_voter_decides(method: str, choice: object) -> None:
    result = run(Rules(method=method, options=("x", "y", "z")), [(1, choice)])
    assert result.winners == ("y",)


def test_top_k_seats_and_tie_for_the_last_seat() -> None:
    rules = Rules(method="approval", options=("w", "x", "y", "z"), seats=2)
    result = run(rules, [(3, ("w", "x")), (2, ("y",)), (2, ("z",))])
    assert result.winners == ("w", "x")
    tied = run(rules, [(3, ("w",)), (2, ("y",)), (2, ("z",))])
    assert tied.winners[0] == "w" and tied.winners[1] in ("y", "z")
    assert tied.tie_breaks[0]["tied"] == ["y", "z"]
    assert tied.seed is not None
    again = run(rules, [(2, ("z",)), (3, ("w",)), (2, ("y",))])
    assert again.winners == tied.winners  # the lot depends on the ballots, not their order
    none = run(
        Rules(method="approval", options=("w", "x", "y", "z"), seats=2, tie_break="none"),
        [(3, ("w",)), (2, ("y",)), (2, ("z",))],
    )
    assert none.outcome == "tie" and none.winners == ("w",) and none.details["unresolved_tie"] == ["y", "z"]


def test_score_and_mj_treat_missing_options_as_lowest() -> None:
    score = run(Rules(method="score", options=("x", "y")), [(2, {"x": 3}), (1, {"y": 5})])
    assert score.details["totals"] == {"x": 6, "y": 5}
    mj = run(
        Rules(method="majority_judgment", options=("x", "y"), grades=("good", "bad")),
        [(2, {"x": "good"}), (1, {"y": "good"})],
    )
    assert mj.details["options"]["y"]["majority_grade"] == "bad"
    assert mj.winners == ("x",)


def test_schulze_accepts_equal_ranks_and_unranked_options() -> None:
    rules = Rules(method="schulze", options=("x", "y", "z"))
    result = run(rules, [(2, (("x", "y"),)), (1, ("z", "x"))])
    d = result.details["pairwise"]
    assert d["x"]["y"] == 1 and d["y"]["x"] == 0 and d["x"]["z"] == 2 and d["z"]["x"] == 1 and d["z"]["y"] == 1


def test_blt_export() -> None:
    rules = Rules(method="stv", options=("Ann", 'Bob "B"', "Cy"), seats=2)
    ballots = [Ballot("a", ("Ann", "Cy")), Ballot("b", ("Ann", "Cy")), Ballot("c", ('Bob "B"',))]
    assert to_blt(rules, ballots, "Board 2025") == (
        '3 2\n2 1 3 0\n1 2 0\n0\n"Ann"\n"Bob \\"B\\""\n"Cy"\n"Board 2025"\n'
    )
    with pytest.raises(InvalidBallot):
        to_blt(Rules(method="schulze", options=("x", "y")), [Ballot("a", (("x", "y"),))])


def test_bit_parallel_pairwise_matrix_matches_a_naive_count() -> None:
    """The fast pairwise matrix (complete, truncated, tied, weighted ballots) against plain loops."""
    import random

    from governance.ranked import pairwise_matrix

    rng = random.Random(5)
    for n in (2, 3, 7, 15, 16, 40, 70):
        options = tuple(f"o{i}" for i in range(n))
        for shape in ("complete", "truncated", "tied"):
            profile: dict = {}
            for _ in range(60):
                perm = rng.sample(options, n)
                if shape == "truncated":
                    perm = perm[: rng.randint(1, n)]
                key = tuple(perm)
                if shape == "tied" and n > 2:
                    cut = rng.randint(1, n - 1)
                    key = (*perm[: cut - 1], tuple(sorted(perm[cut - 1 : cut + 1])), *perm[cut + 1 :])
                profile[key] = rng.choice([1, 1, 2, 7, 1000])
            d = pairwise_matrix(options, profile)
            positions = []
            for key, w in profile.items():
                pos = {}
                for rank, item in enumerate(key):
                    for o in (item,) if isinstance(item, str) else item:
                        pos[o] = rank
                positions.append((pos, w))
            for i, a in enumerate(options):
                for j, b in enumerate(options):
                    if i != j:
                        naive = sum(w for pos, w in positions if pos.get(a, n) < pos.get(b, n))
                        assert d[i][j] == naive, (n, shape, a, b)
