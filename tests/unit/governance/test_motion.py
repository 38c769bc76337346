"""Motions and consent: thresholds, quorum, abstentions, colleges."""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import run

from governance import (
    ABSOLUTE_MAJORITY,
    THREE_QUARTERS,
    TWO_THIRDS,
    UNANIMITY,
    Ballot,
    College,
    Electorate,
    Rules,
    Voter,
    certify,
    tally,
    verify,
)

MOTION = Rules(method="motion")


def test_simple_majority_is_strict() -> None:
    assert run(MOTION, [(5, "yes"), (5, "no")]).outcome == "rejected"
    assert run(MOTION, [(6, "yes"), (5, "no")]).outcome == "adopted"


def test_two_thirds_exactly_at_the_boundary_is_adopted() -> None:
    rules = Rules(method="motion", threshold=TWO_THIRDS)
    assert run(rules, [(2, "yes"), (1, "no")]).outcome == "adopted"
    assert run(rules, [(200, "yes"), (101, "no")]).outcome == "rejected"  # 200/301 < 2/3
    three_q = Rules(method="motion", threshold=THREE_QUARTERS)
    assert run(three_q, [(3, "yes"), (1, "no")]).outcome == "adopted"
    assert run(three_q, [(74, "yes"), (26, "no")]).outcome == "rejected"


def test_unanimity_and_absolute_majority() -> None:
    rules = Rules(method="motion", threshold=UNANIMITY)
    assert run(rules, [(9, "yes"), (3, "abstain")]).outcome == "adopted"
    assert run(rules, [(9, "yes"), (1, "no")]).outcome == "rejected"
    absolute = Rules(method="motion", threshold=ABSOLUTE_MAJORITY)
    assert run(absolute, [(5, "yes"), (0, "no")], size=10).outcome == "rejected"  # 5 is not > 10/2
    assert run(absolute, [(6, "yes"), (0, "no")], size=10).outcome == "adopted"


def test_abstentions_and_blanks_count_as_cast_when_configured() -> None:
    groups = [(5, "yes"), (4, "no"), (2, "abstain"), (1, "blank")]
    assert run(MOTION, groups).outcome == "adopted"  # 5/9
    counted = Rules(method="motion", abstentions_count_as_cast=True)
    assert run(counted, groups).outcome == "rejected"  # 5/11
    result = run(Rules(method="motion", blanks_count_as_cast=True), groups)
    assert result.details["yes_share"] == "1/2"
    assert result.outcome == "rejected"


def test_quorum_counts_blank_abstention_and_is_inclusive() -> None:
    rules = Rules(method="motion", quorum=Fraction(1, 4))
    assert run(rules, [(1, "yes"), (1, "abstain"), (1, "blank")], size=12).outcome == "adopted"  # 3 >= 12/4
    result = run(rules, [(1, "yes"), (1, "abstain")], size=12)
    assert result.outcome == "no_quorum"
    assert result.quorum == {"required": "1/4", "participants": 2, "electorate": 12, "needed": 3, "met": False}
    # 13 members: a quarter is 3.25, so 4 are needed.
    assert run(rules, [(3, "yes")], size=13).outcome == "no_quorum"
    assert run(rules, [(4, "yes")], size=13).outcome == "adopted"


def test_empty_ballot_box_and_all_abstain() -> None:
    assert run(MOTION, [], size=5).outcome == "rejected"
    result = run(MOTION, [(5, "abstain")])
    assert result.outcome == "rejected"
    assert result.details["note"] == "no votes cast"
    assert run(Rules(method="motion", quorum=Fraction(1, 2)), [], size=5).outcome == "no_quorum"


def test_one_voter() -> None:
    assert run(MOTION, [(1, "yes")]).outcome == "adopted"
    assert run(MOTION, [(1, "no")]).outcome == "rejected"


def _scic_electorate() -> Electorate:
    voters = [Voter(f"w{i}", "workers") for i in range(10)]
    voters += [Voter(f"b{i}", "beneficiaries") for i in range(100)]
    voters += [Voter(f"s{i}", "supporters") for i in range(3)]
    return Electorate(tuple(voters))


SCIC = (
    College("workers", Fraction(1, 2)),
    College("beneficiaries", Fraction(3, 10)),
    College("supporters", Fraction(1, 5)),
)


def test_colleges_weigh_each_college_result() -> None:
    """Workers 8 yes / 2 no (80 %), beneficiaries 20 yes / 80 no (20 %), supporters 0 / 3 (0 %).
    Weighted: 1/2 x 4/5 + 3/10 x 1/5 + 1/5 x 0 = 2/5 + 3/50 = 23/50 -> rejected; by head count the
    yes would be 28 / 113 anyway; flip the workers to 10/0 -> 1/2 + 3/50 = 28/50 -> adopted.
    """
    rules = Rules(method="motion", colleges=SCIC)
    e = _scic_electorate()
    ballots = [Ballot(f"w{i}", "yes" if i < 8 else "no") for i in range(10)]
    ballots += [Ballot(f"b{i}", "yes" if i < 20 else "no") for i in range(100)]
    ballots += [Ballot(f"s{i}", "no") for i in range(3)]
    result = tally(rules, e, ballots)
    assert result.details["weighted_yes_share"] == "23/50"
    assert result.outcome == "rejected"
    ballots[8:10] = [Ballot("w8", "yes"), Ballot("w9", "yes")]
    result = tally(rules, e, ballots)
    assert result.details["weighted_yes_share"] == "14/25"
    assert result.outcome == "adopted"
    assert verify(certify(result))


def test_empty_college_rule() -> None:
    """Supporters do not vote. Redistribute: workers 1/2 -> 5/8, beneficiaries 3/10 -> 3/8.
    Abstain: the supporters' 1/5 counts for nothing."""
    e = _scic_electorate()
    ballots = [Ballot(f"w{i}", "yes") for i in range(10)] + [Ballot(f"b{i}", "no") for i in range(100)]
    redistribute = tally(Rules(method="motion", colleges=SCIC), e, ballots)
    assert redistribute.details["weighted_yes_share"] == "5/8"
    assert redistribute.outcome == "adopted"
    abstain = tally(Rules(method="motion", colleges=SCIC, empty_college="abstain"), e, ballots)
    assert abstain.details["weighted_yes_share"] == "1/2"
    assert abstain.outcome == "rejected"


def test_consent_blocks_with_reasons() -> None:
    rules = Rules(method="consent")
    e = Electorate.of(["a", "b", "c", "d"])
    ok = tally(rules, e, [Ballot("a", "agree"), Ballot("b", "disagree"), Ballot("c", "abstain")])
    assert ok.outcome == "adopted"
    blocked = tally(
        rules,
        e,
        [Ballot("a", "agree"), Ballot("b", "block", reason="breaks our charter"), Ballot("c", "block")],
    )
    assert blocked.outcome == "rejected"
    assert blocked.details["blocks"] == [{"reason": "breaks our charter", "count": 1}, {"reason": None, "count": 1}]
    assert "breaks our charter" in blocked.explain()
    assert verify(certify(blocked))
    assert tally(rules, e, []).outcome == "rejected"


@pytest.mark.parametrize("choice", ["oui", 1, ("yes",), True])
def test_invalid_motion_choice(choice: object) -> None:
    from governance import InvalidBallot

    with pytest.raises(InvalidBallot) as err:
        tally(MOTION, Electorate.of(["a", "b"]), [Ballot("a", "yes"), Ballot("b", choice)])
    assert err.value.voter == "b"
    assert err.value.code == "invalid_choice"
