"""Reproducible tie-breaking by lot.

The seed is the SHA-256 of the canonical JSON of the counted ballots (see
:func:`governance.certificate.canonical_ballots`), read as a big-endian integer and given to
:class:`random.Random` (CPython's Mersenne Twister, whose integer seeding is stable across versions).
Every tie met during a count, in the order the count meets it, draws
``rng.sample(sorted(tied), len(tied))``: the tied options are sorted by their identifiers, then
shuffled; the first drawn ranks first. Anyone holding the published ballots can redo the draws.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable
from typing import Any


class Lot:
    """Draws lots for ties, lazily seeded from the canonical ballots, and records each draw."""

    def __init__(self, seed_source: Callable[[], bytes]) -> None:
        self._seed_source = seed_source
        self._rng: random.Random | None = None
        self.seed: str | None = None
        self.draws: list[dict[str, Any]] = []

    def order(self, tied: Iterable[str], context: str) -> list[str]:
        """Return the tied options in the order the lot ranks them, and record the draw."""
        tied_sorted = sorted(tied)
        if len(tied_sorted) < 2:
            return tied_sorted
        if self._rng is None:
            self.seed = hashlib.sha256(self._seed_source()).hexdigest()
            self._rng = random.Random(int(self.seed, 16))  # noqa: S311 - a public, reproducible lot
        drawn = self._rng.sample(tied_sorted, len(tied_sorted))
        self.draws.append({"context": context, "tied": tied_sorted, "order": drawn})
        return drawn
