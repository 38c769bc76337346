"""The ledger's arithmetic, pure: splits add up to the cent, successive partial refunds add up to the
whole, every posting list balances, and legal identifiers are checked by their check digits."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.payments import invoicing, ledger

MISSION, MEMBER = uuid.uuid4(), uuid.uuid4()


@given(
    ht=st.integers(min_value=1, max_value=10**9),
    vat_bp=st.sampled_from([0, 210, 550, 1000, 2000]),
    rate_bp=st.integers(min_value=0, max_value=10_000),
    cuts=st.lists(st.floats(min_value=0.01, max_value=1.0), max_size=6),
)
def test_partial_refunds_add_up_to_the_whole(ht: int, vat_bp: int, rate_bp: int, cuts: list[float]) -> None:
    vat = ledger.vat_of(ht, vat_bp)
    whole = ledger.split(ht + vat, vat, rate_bp)
    assert whole.total_minor == ht + vat and min(whole.vat_minor, whole.contribution_minor, whole.member_minor) >= 0
    taken, parts = ledger.Split(0, 0, 0), []
    for cut in [*cuts, 1.0]:
        left = whole.total_minor - taken.total_minor
        amount = max(1, int(left * cut)) if left else 0
        if not amount:
            break
        part = ledger.share(whole, amount, taken)
        assert part.total_minor == amount and min(part.vat_minor, part.contribution_minor, part.member_minor) >= 0
        for released in (True, False):
            assert sum(p.amount_minor for p in ledger.refund_postings(MISSION, MEMBER, part, released=released)) == 0
        parts.append(part)
        taken = ledger.Split(
            taken.vat_minor + part.vat_minor,
            taken.contribution_minor + part.contribution_minor,
            taken.member_minor + part.member_minor,
        )
    assert sum(p.vat_minor for p in parts) == whole.vat_minor
    assert sum(p.contribution_minor for p in parts) == whole.contribution_minor
    assert sum(p.member_minor for p in parts) == whole.member_minor


def test_postings_that_do_not_balance_are_refused_before_the_database_sees_them() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        ledger.balanced([ledger.Posting(ledger.TREASURY, 100), ledger.Posting(ledger.CONTRIBUTIONS, -99)])
    with pytest.raises(ValueError, match="at most what is left"):
        ledger.share(ledger.split(1200, 200, 1000), 1201)


def test_legal_identifiers_are_checked() -> None:
    seller = invoicing.party("Coop", "Lyon", "901 234 567 00013", "FR15901234567", prefix="seller")
    assert (seller["siren"], seller["siret"], seller["vat_number"]) == ("901234567", "90123456700013", "FR15901234567")
    for registration in ("901234568", "90123456700014", "12345"):
        with pytest.raises(invoicing.LegalIdError):
            invoicing.party("Coop", "Lyon", registration, None, prefix="seller")
    with pytest.raises(invoicing.LegalIdError):
        invoicing.party("Coop", "Lyon", None, "FR15901234568", prefix="seller")
    assert invoicing.reference("F", 2026, 42) == "F-2026-000042"
