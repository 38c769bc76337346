"""Rules validation, serialisation and statute presets."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from governance import College, InvalidRules, Method, ProxyCap, Rules, Threshold, presets

SCIC = (College("a", Fraction(2, 5)), College("b", Fraction(3, 10)), College("c", Fraction(3, 10)))


def test_round_trip_through_plain_dicts() -> None:
    rules = Rules(
        method=Method.MOTION,
        quorum=Fraction(1, 4),
        threshold=Threshold(Fraction(3, 5), strict=False, base="electorate"),
        colleges=SCIC,
        proxy_cap=ProxyCap("scop", 0),
        board_approved=True,
    )
    data = rules.to_dict()
    assert data["quorum"] == "1/4"
    assert data["threshold"] == {"share": "3/5", "strict": False, "base": "electorate"}
    assert Rules.from_dict(data) == rules
    named = Rules(method="motion", threshold=Threshold(Fraction(2, 3)))
    assert named.to_dict()["threshold"] == "two_thirds"
    assert Rules.from_dict(named.to_dict()) == named


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "method"),
        ({"method": "telepathy"}, "method"),
        ({"method": "motion", "quorom": "1/4"}, "quorom"),
        ({"method": "motion", "quorum": 0.25}, "quorum"),
        ({"method": "motion", "quorum": "5/4"}, "quorum"),
        ({"method": "motion", "quorum": "a quarter"}, "quorum"),
        ({"method": "motion", "threshold": "most"}, "threshold"),
        ({"method": "motion", "threshold": {"share": "1/2", "strict": "yes"}}, "threshold.strict"),
        ({"method": "motion", "options": ["a"]}, "options"),
        ({"method": "schulze", "options": []}, "options"),
        ({"method": "schulze", "options": ["a", "a"]}, "options"),
        ({"method": "stv", "options": ["a", "b"], "seats": 3}, "seats"),
        ({"method": "instant_runoff", "options": ["a", "b"], "seats": 2}, "seats"),
        ({"method": "motion", "proxy_cap": -1}, "proxy_cap"),
        ({"method": "motion", "proxy_cap": "lots"}, "proxy_cap"),
        ({"method": "motion", "blank_proxies": "president"}, "blank_proxies"),
        ({"method": "score", "options": ["a"], "score_range": [5, 0]}, "score_range"),
        ({"method": "majority_judgment", "options": ["a"], "grades": ["only"]}, "grades"),
        ({"method": "motion", "tie_break": "coin"}, "tie_break"),
        ({"method": "motion", "colleges": [{"name": "a", "weight": "1/1"}]}, "colleges"),
        ({"method": "motion", "abstentions_count_as_cast": "no"}, "abstentions_count_as_cast"),
    ],
)
def test_bad_rules_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidRules) as err:
        Rules.from_dict(data)
    assert err.value.field == field
    assert err.value.code == "invalid_rules"
    assert err.value.reason


def test_scic_college_weights_outside_bounds_or_not_summing_to_one() -> None:
    with pytest.raises(InvalidRules, match="outside the statutory bounds"):
        Rules(method="motion", colleges=(College("a", Fraction(3, 5)), College("b", Fraction(2, 5))))
    with pytest.raises(InvalidRules, match="outside the statutory bounds"):
        Rules(
            method="motion",
            colleges=(College("a", Fraction(1, 20)), College("b", Fraction(1, 2)), College("c", Fraction(9, 20))),
        )
    with pytest.raises(InvalidRules, match="sum to 1"):
        Rules(method="motion", colleges=(College("a", Fraction(1, 2)), College("b", Fraction(2, 5))))
    with pytest.raises(InvalidRules, match="listed twice"):
        Rules(method="motion", colleges=(College("a", Fraction(1, 2)), College("a", Fraction(1, 2))))
    # Exactly at the bounds is allowed; the bounds themselves are configurable.
    Rules(method="motion", colleges=(College("a", Fraction(1, 2)), College("b", Fraction(1, 2))))
    Rules(
        method="motion",
        colleges=(College("a", Fraction(3, 5)), College("b", Fraction(2, 5))),
        college_weight_bounds=None,
    )


def test_replace_revalidates() -> None:
    rules = presets.get("scop_sarl").ordinary.first_call
    with pytest.raises(InvalidRules):
        dataclasses.replace(rules, quorum=Fraction(3, 2))
    changed = dataclasses.replace(rules, quorum=Fraction(1, 3))
    assert changed.quorum == Fraction(1, 3)


def test_presets_are_complete_and_serialisable() -> None:
    assert set(presets.names()) >= {"scop_sarl", "scop_sa", "scic_sas", "cae", "association"}
    for name in presets.names():
        preset = presets.get(name)
        assert preset.sources
        for conv in (preset.ordinary, preset.extraordinary):
            for rules in (conv.first_call, conv.second_call):
                assert rules.method is Method.MOTION
                assert Rules.from_dict(rules.to_dict()) == rules
    with pytest.raises(InvalidRules):
        presets.get("kolkhoz")


def test_preset_numbers() -> None:
    """Spot-check the numbers documented in governance/README.md."""
    sarl = presets.get("scop_sarl")
    assert sarl.ordinary.first_call.quorum is None
    assert sarl.ordinary.first_call.threshold.base == "electorate"
    assert sarl.extraordinary.first_call.quorum == Fraction(3, 4)
    assert sarl.extraordinary.second_call.quorum == Fraction(1, 2)
    assert sarl.extraordinary.first_call.threshold.share == Fraction(3, 4)
    assert sarl.ordinary.first_call.proxy_cap.cap(19) == 1
    assert sarl.ordinary.first_call.proxy_cap.cap(20) == 1
    assert sarl.ordinary.first_call.proxy_cap.cap(45) == 2
    sa = presets.get("scop_sa")
    assert (sa.ordinary.first_call.quorum, sa.ordinary.second_call.quorum) == (Fraction(1, 5), None)
    assert (sa.extraordinary.first_call.quorum, sa.extraordinary.second_call.quorum) == (Fraction(1, 4), Fraction(1, 5))
    assert sa.extraordinary.first_call.threshold.share == Fraction(2, 3)
    scic = presets.get("scic_sas").ordinary.first_call
    assert len(scic.colleges) == 3
    assert sum(c.weight for c in scic.colleges) == 1
