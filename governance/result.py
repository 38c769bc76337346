"""The outcome of a count, with its structured explanation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .model import Method, Rules

#: Possible values of :attr:`Result.outcome`.
OUTCOMES = ("adopted", "rejected", "no_quorum", "elected", "tie", "no_votes")


@dataclass(frozen=True)
class Result:
    """What a count decided, and why.

    Attributes:
        method: the counting method.
        outcome: ``"adopted"`` / ``"rejected"`` (motion, consent), ``"elected"`` (choices),
            ``"tie"`` (a tie for a seat with ``tie_break="none"``), ``"no_votes"`` (a choice with no
            non-blank ballot) or ``"no_quorum"``.
        winners: the elected options, in order (empty for motions and when there is no result).
        ranking: the full ranking as tiers of equally placed options, best first (before any lot).
        quorum: required share, participants, electorate, how many were needed, whether it was met.
        participation: ballots counted and blank ballots among them.
        details: method-specific explanation: counts, shares against the threshold, rounds,
            pairwise and strongest-path matrices, median grades, transfers.
        tie_breaks: every lot drawn, in order, with the tied options and the drawn order.
        seed: SHA-256 (hex) of the canonical ballots that seeded the lot, if a lot was drawn.
        attendance: how ballots came in (in person, by proxy, blank proxies, cancelled proxies);
            set by :func:`governance.tally`, published in certificates but not recomputable from them.
        rules, electorate_size, college_sizes: what was counted, for certificates.
    """

    method: Method
    outcome: str
    winners: tuple[str, ...]
    ranking: tuple[tuple[str, ...], ...]
    quorum: dict[str, Any]
    participation: dict[str, Any]
    details: dict[str, Any]
    tie_breaks: tuple[dict[str, Any], ...]
    seed: str | None
    rules: Rules = field(repr=False, compare=False)
    electorate_size: int = field(repr=False, compare=False, default=0)
    college_sizes: dict[str, int] = field(repr=False, compare=False, default_factory=dict)
    by_college: dict[str | None, Counter[Any]] = field(repr=False, compare=False, default_factory=dict)
    block_reasons: Counter[Any] = field(repr=False, compare=False, default_factory=Counter)
    attendance: dict[str, int] = field(compare=False, default_factory=dict)

    @property
    def adopted(self) -> bool:
        return self.outcome == "adopted"

    def to_dict(self) -> dict[str, Any]:
        """The outcome and its explanation as plain JSON-ready data (the certificate's ``result``)."""
        return {
            "method": self.method.value,
            "outcome": self.outcome,
            "winners": list(self.winners),
            "ranking": [list(t) for t in self.ranking],
            "quorum": self.quorum,
            "participation": self.participation,
            "details": self.details,
            "tie_breaks": list(self.tie_breaks),
            "seed": self.seed,
        }

    def explain(self) -> str:
        """A human-readable account of the count (see :func:`governance.explain.render`)."""
        from .explain import render

        return render(self)
