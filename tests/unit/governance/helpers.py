"""Small builders shared by the governance tests (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from governance import Ballot, Electorate, Rules, tally
from governance.result import Result


def profile_ballots(groups: Iterable[tuple[int, Any]]) -> list[Ballot]:
    """Expand (count, choice) groups into ballots by voters v0, v1, ..."""
    out: list[Ballot] = []
    for n, choice in groups:
        base = len(out)
        out.extend([Ballot(f"v{base + i}", choice) for i in range(n)])
    return out


def electorate(n: int) -> Electorate:
    return Electorate.of([f"v{i}" for i in range(n)])


def run(rules: Rules, groups: Sequence[tuple[int, Any]], size: int | None = None) -> Result:
    ballots = profile_ballots(groups)
    return tally(rules, electorate(size if size is not None else len(ballots)), ballots)
