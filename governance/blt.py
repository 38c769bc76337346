"""Export ranked ballots in the BLT format read by OpenSTV, Droop and most STV counting programs.

Layout::

    <number of candidates> <number of seats>
    <weight> <candidate number> <candidate number> ... 0      (one line per distinct ballot)
    0
    "<candidate name>"                                         (one line per candidate, numbered from 1)
    "<title>"

Candidates are numbered in the order of ``rules.options``; identical ballots are aggregated into one
line with their count as weight; blank ballots are left out. Equal rankings (Schulze ballots) have
no BLT form and are refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .counting import normaliser
from .errors import InvalidBallot, InvalidRules
from .model import RANKED_METHODS, Ballot, Rules, freeze


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_blt(rules: Rules, ballots: Iterable[Ballot | Any], title: str = "") -> str:
    """BLT text for ranked ``ballots`` (Ballot objects or raw choices) under ``rules``."""
    if rules.method not in RANKED_METHODS:
        raise InvalidRules("BLT export needs a ranked method", "method")
    norm = normaliser(rules)
    number = {o: i + 1 for i, o in enumerate(rules.options)}
    counts: Counter[Any] = Counter()
    for b in ballots:
        raw = b.choice if isinstance(b, Ballot) else freeze(b)
        key = norm(raw)
        if key is None:
            continue
        if any(item.__class__ is not str for item in key):
            raise InvalidBallot("BLT cannot express equally ranked options", getattr(b, "voter", None))
        counts[key] += 1
    lines = [f"{len(rules.options)} {rules.seats}"]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], [number[o] for o in kv[0]])):
        lines.append(" ".join([str(n), *(str(number[o]) for o in key), "0"]))
    lines.append("0")
    lines.extend(_quote(o) for o in rules.options)
    lines.append(_quote(title))
    return "\n".join(lines) + "\n"
