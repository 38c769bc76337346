"""Proxies: validation against the rules and resolution of which ballots count."""

from __future__ import annotations

from fractions import Fraction

import pytest

from governance import (
    Ballot,
    Electorate,
    InvalidBallot,
    Proxy,
    ProxyCap,
    ProxyViolation,
    Rules,
    presets,
    resolve_ballots,
    tally,
    validate_proxies,
)

E = Electorate.of([f"m{i}" for i in range(10)])
RULES = Rules(method="motion", proxy_cap=ProxyCap("fixed", 1))


def codes(proxies: list[Proxy], rules: Rules = RULES, electorate: Electorate = E, **kw: str) -> list[str]:
    return [v.code for v in validate_proxies(proxies, rules, electorate, **kw)]


def test_valid_proxies_have_no_violation() -> None:
    assert codes([Proxy("m1", "m2", decision="d"), Proxy("m3", "m4", assembly="ag")]) == []


def test_each_violation_has_a_clear_code() -> None:
    assert codes([Proxy("x", "m2", decision="d")]) == ["not_a_member"]
    assert codes([Proxy("m1", "outsider", decision="d")]) == ["not_a_member"]
    assert codes([Proxy("m1", "m1", decision="d")]) == ["self_proxy"]
    assert codes([Proxy("m1", "m2")]) == ["bad_scope"]
    assert codes([Proxy("m1", "m2", decision="d", assembly="a")]) == ["bad_scope"]
    assert codes([Proxy("m1", "m2", decision="other")], decision="d") == ["wrong_scope"]
    assert codes([Proxy("m1", "m2", decision="d"), Proxy("m1", "m3", decision="d")]) == ["duplicate_proxy"]
    assert codes([Proxy("m1", "m2", decision="d"), Proxy("m2", "m3", decision="d")]) == ["proxy_chain"]
    assert codes([Proxy("m1", "m3", decision="d"), Proxy("m2", "m3", decision="d")]) == ["over_cap"]
    refuse = Rules(method="motion", blank_proxies="refuse")
    assert codes([Proxy("m1", None, decision="d")], refuse) == ["blank_proxy_refused"]


def test_scop_cap_under_and_over_twenty_associates() -> None:
    """Loi n° 78-763: one extra vote under 20 associates, at most a twentieth of them from 20 on."""
    scop = presets.get("scop_sarl").ordinary.first_call
    small = Electorate.of([f"m{i}" for i in range(19)])
    two = [Proxy("m1", "m0", decision="d"), Proxy("m2", "m0", decision="d")]
    assert codes(two, scop, small) == ["over_cap"]
    big = Electorate.of([f"m{i}" for i in range(40)])
    assert codes(two, scop, big) == []
    three = [*two, Proxy("m3", "m0", decision="d")]
    assert codes(three, scop, big) == ["over_cap"]
    violation = validate_proxies(three, scop, big)[0]
    assert "twentieth" in violation.reason
    assert violation.holder == "m0"


def test_tally_rejects_violations() -> None:
    with pytest.raises(ProxyViolation) as err:
        tally(RULES, E, [Ballot("m3", "yes")], [Proxy("m1", "m3", decision="d"), Proxy("m2", "m3", decision="d")])
    assert err.value.code == "over_cap"


def test_proxy_ballot_counts_and_in_person_vote_cancels_it() -> None:
    proxies = [Proxy("m1", "m2", decision="d"), Proxy("m3", "m4", decision="d")]
    ballots = [
        Ballot("m2", "yes"),
        Ballot("m1", "yes", cast_by="m2"),  # counts
        Ballot("m4", "no"),
        Ballot("m3", "no", cast_by="m4"),  # cancelled: m3 voted in person
        Ballot("m3", "yes"),
    ]
    res = resolve_ballots(RULES, E, ballots, proxies)
    assert res.in_person == 3 and res.by_proxy == 1 and res.cancelled_proxies == ("m3",)
    result = tally(RULES, E, ballots, proxies, decision="d")
    assert result.details["counts"]["yes"] == 3
    assert result.details["counts"]["no"] == 1
    assert result.attendance == {"in_person": 3, "by_proxy": 1, "blank_proxies": 0, "cancelled_proxies": 1}


def test_proxy_ballot_without_a_proxy_is_rejected() -> None:
    with pytest.raises(ProxyViolation) as err:
        tally(RULES, E, [Ballot("m1", "yes", cast_by="m2")])
    assert err.value.code == "no_proxy"
    with pytest.raises(ProxyViolation):
        tally(RULES, E, [Ballot("m1", "yes", cast_by="m5")], [Proxy("m1", "m2", decision="d")])


def test_blank_proxies_follow_the_declared_rule() -> None:
    """SCOP statutes (after Code de commerce L225-106): for the board's resolutions, against the others."""
    ballots = [Ballot("m0", "no")]
    blank = [Proxy("m1", None, decision="d"), Proxy("m2", None, decision="d")]
    board = tally(Rules(method="motion", board_approved=True), E, ballots, blank)
    assert board.details["counts"]["yes"] == 2 and board.outcome == "adopted"
    other = tally(Rules(method="motion", board_approved=False), E, ballots, blank)
    assert other.details["counts"]["no"] == 3 and other.outcome == "rejected"
    abstain = tally(Rules(method="motion", blank_proxies="abstain"), E, ballots, blank)
    assert abstain.details["counts"]["abstain"] == 2
    # A blank proxy counts toward the quorum; an in-person vote cancels it.
    quorum = Rules(method="motion", quorum=Fraction(3, 10))
    assert tally(quorum, E, ballots, blank).quorum["participants"] == 3
    voted = tally(quorum, E, [*ballots, Ballot("m1", "no")], blank)
    assert voted.quorum["participants"] == 3 and voted.attendance["cancelled_proxies"] == 1


def test_duplicate_and_foreign_ballots() -> None:
    with pytest.raises(InvalidBallot) as err:
        tally(RULES, E, [Ballot("m1", "yes"), Ballot("m1", "no")])
    assert err.value.code == "duplicate_ballot" and err.value.voter == "m1"
    with pytest.raises(InvalidBallot) as err:
        tally(RULES, E, [Ballot("stranger", "yes")])
    assert err.value.code == "not_in_electorate"
