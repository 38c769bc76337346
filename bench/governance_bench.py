"""Throughput of the governance engine against the cost of merely reading its input.

Run with ``python bench/governance_bench.py``. For each case the ballots are serialised to JSON
once; then we time

* ``parse``: ``json.loads`` of that text plus building the :class:`governance.Ballot` objects
  (what any caller must do to hold the ballots at all), and
* ``scan``: one Python pass over the built ballots reading each voter and choice,
* ``tally``: :func:`governance.tally` on the built ballots (validation, proxies, count),

and print ballots per second and the ratios tally/parse and tally/scan. Times are CPU time of
this process (``time.process_time``, best of 3), so that a busy machine does not inflate them. The target is
tally within 3x of reading the input (parse). Ballots are uniformly random: for ranked
ballots over 10 options almost every ballot is distinct, the worst case for aggregation.
This is a benchmark, not a test: nothing here asserts timings.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import Ballot, Electorate, Rules, tally

OPTIONS = tuple(f"option{i}" for i in range(10))
GRADES = ("excellent", "very_good", "good", "fair", "poor", "reject")


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best = float("inf")
    value = None
    for _ in range(repeat):
        start = time.process_time()
        value = fn()
        best = min(best, time.process_time() - start)
    return best, value


def case(name: str, rules: Rules, choices: list[Any], repeat: int = 3) -> dict[str, Any]:
    n = len(choices)
    voters = [f"member{i}" for i in range(n)]
    electorate = Electorate.of(voters)
    text = json.dumps([{"voter": v, "choice": c} for v, c in zip(voters, choices, strict=True)])

    def parse() -> list[Ballot]:
        return [Ballot(d["voter"], d["choice"]) for d in json.loads(text)]

    parse_s, ballots = best_of(parse, repeat)

    def scan() -> int:
        k = 0
        for b in ballots:
            if b.voter and b.choice is not None:
                k += 1
        return k

    scan_s, _ = best_of(scan, repeat)
    tally_s, result = best_of(lambda: tally(rules, electorate, ballots), repeat)
    return {
        "case": name,
        "ballots": n,
        "parse_s": parse_s,
        "scan_s": scan_s,
        "tally_s": tally_s,
        "outcome": result.outcome,
        "winners": result.winners,
    }


def main() -> None:
    rng = random.Random(2025)
    print(f"Python {sys.version.split()[0]}; CPU seconds, best of 3 runs each; one core.")
    cases = []
    motion = [rng.choice(("yes", "yes", "no", "abstain", "blank")) for _ in range(1_000_000)]
    cases.append(case("motion, 1,000,000 ballots", Rules(method="motion"), motion))
    ranked = [tuple(rng.sample(OPTIONS, len(OPTIONS))) for _ in range(100_000)]
    cases.append(case("Schulze, 100,000 x 10 options", Rules(method="schulze", options=OPTIONS), ranked))
    cases.append(case("instant-runoff, 100,000 x 10", Rules(method="instant_runoff", options=OPTIONS), ranked))
    graded = [{o: rng.choice(GRADES) for o in OPTIONS} for _ in range(100_000)]
    cases.append(case("majority judgment, 100,000 x 10", Rules(method="majority_judgment", options=OPTIONS), graded))
    header = (
        f"{'case':34} {'ballots/s':>12} {'tally s':>8} {'parse s':>8} {'scan s':>7} "
        f"{'tally/parse':>11} {'tally/scan':>10}"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        print(
            f"{c['case']:34} {c['ballots'] / c['tally_s']:>12,.0f} {c['tally_s']:>8.3f} {c['parse_s']:>8.3f} "
            f"{c['scan_s']:>7.3f} {c['tally_s'] / c['parse_s']:>11.2f} {c['tally_s'] / c['scan_s']:>10.2f}"
        )
    print("target: tally/parse <= 3 (tally within 3x of reading the input)")


if __name__ == "__main__":
    main()
