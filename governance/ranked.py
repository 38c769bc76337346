"""Instant-runoff and Schulze counts on aggregated ranked ballots.

A normalised ranked ballot is a tuple whose items are option ids, or (Schulze only) sorted tuples of
option ids ranked equally. Options a ballot leaves out rank equally below all it ranks (Schulze) or
are never reached (instant-runoff: the ballot is then exhausted).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, compress, repeat
from operator import lt
from typing import Any

from .counting import Fmt, Key, share
from .lot import Lot
from .model import Rules

# ----------------------------------------------------------------------------- instant-runoff


def count_instant_runoff(
    rules: Rules, profile: dict[Key, int], fmt: Fmt, lot: Lot
) -> tuple[list[tuple[str, ...]], str | None, dict[str, Any]]:
    """Round by round: a majority of the continuing ballots wins, else the last is eliminated.

    Ties for last place are settled by lot. Returns (ranking tiers, winner, details).
    """
    continuing = set(rules.options)
    piles: dict[str, list[tuple[Key, int, int]]] = {o: [] for o in rules.options}
    votes = dict.fromkeys(rules.options, 0)
    for key, w in profile.items():
        first = key[0]
        piles[first].append((key, w, 0))
        votes[first] += w
    exhausted = 0
    rounds: list[dict[str, Any]] = []
    eliminated: list[str] = []
    winner: str | None = None
    while True:
        active = sum(votes[o] for o in continuing)
        snapshot = {o: fmt(votes[o]) for o in rules.options if o in continuing}
        top = max(votes[o] for o in continuing)
        record: dict[str, Any] = {
            "round": len(rounds) + 1,
            "votes": snapshot,
            "exhausted": fmt(exhausted),
            "continuing_ballots": fmt(active),
        }
        rounds.append(record)
        leaders = [o for o in continuing if votes[o] == top]
        if len(continuing) == 1 or (active and 2 * top > active):
            winner = leaders[0]
            record["majority"] = share(top, active)
            record["winner"] = winner
            break
        low = min(votes[o] for o in continuing)
        lowest = [o for o in continuing if votes[o] == low]
        if len(lowest) > 1:
            out = lot.order(lowest, f"instant-runoff round {len(rounds)}: tie for last place")[-1]
            record["tie_break"] = True
        else:
            out = lowest[0]
        record["eliminated"] = out
        continuing.discard(out)
        eliminated.append(out)
        transfers: dict[str, int] = {}
        for key, w, pos in piles.pop(out):
            for nxt in range(pos + 1, len(key)):
                o = key[nxt]
                if o in continuing:
                    piles[o].append((key, w, nxt))
                    votes[o] += w
                    transfers[o] = transfers.get(o, 0) + w
                    break
            else:
                exhausted += w
                transfers["(exhausted)"] = transfers.get("(exhausted)", 0) + w
        votes[out] = 0
        record["transfers"] = {o: fmt(n) for o, n in sorted(transfers.items())}
    rest = sorted(continuing - {winner}, key=lambda o: (-votes[o], o))
    tiers: list[tuple[str, ...]] = [(winner,)]
    i = 0
    while i < len(rest):
        tier = [o for o in rest[i:] if votes[o] == votes[rest[i]]]
        tiers.append(tuple(tier))
        i += len(tier)
    tiers.extend((o,) for o in reversed(eliminated))
    return tiers, winner, {"rounds": rounds, "ballots": fmt(sum(profile.values()))}


# ----------------------------------------------------------------------------- Schulze


def pairwise_matrix(options: tuple[str, ...], profile: dict[Key, int]) -> list[list[int]]:
    """``d[i][j]`` = weight of ballots ranking option ``i`` strictly above option ``j``.

    Bit-parallel: each distinct ballot gets one lane of ``lane`` bits in a big integer per option.
    For option ``i`` the lane holds ``1 << position`` (one-hot); for option ``j`` it holds
    ``(1 << position) - 1`` (every rank above ``j``). Their AND is non-zero in a lane exactly when
    ``i`` is ranked above ``j`` on that ballot, and is then a single bit, so
    ``(onehot_i & above_j).bit_count()`` counts those ballots. Weights other than 1 are handled
    bit by bit (one mask of lanes per bit of the weights). Unranked options share the position just
    below the last rank; equally ranked options share a position.
    """
    n = len(options)
    unranked = n
    keys = list(profile)
    count = len(keys)
    weights = list(profile.values())
    as_column = bytes if n < 255 else list  # positions fit a byte for up to 254 options
    optset = frozenset(options)
    strict = optset.issuperset(chain.from_iterable(keys))  # items are option ids (no equal ranks)
    complete = strict and n + 1 <= 64 and set(map(len, keys)) == {n}
    if complete:
        # Complete rankings (validated: distinct options): build lanes straight from the ranks.
        index_of = {o: i for i, o in enumerate(options)}
        flat = bytes(map(index_of.__getitem__, chain.from_iterable(keys)))
        columns = []
    else:
        flat = b""
    if not complete:
        if strict:
            maps = list(map(dict, map(zip, keys, repeat(range(n)))))
        else:
            maps = []
            for key in keys:
                pos: dict[str, int] = {}
                for rank, item in enumerate(key):
                    if item.__class__ is str:
                        pos[item] = rank
                    else:
                        for o in item:
                            pos[o] = rank
                maps.append(pos)
        columns = [as_column(map(dict.get, maps, repeat(o, count), repeat(unranked, count))) for o in options]
    d = [[0] * n for _ in range(n)]
    if n + 1 > 64:  # lanes would not fit 64 bits: plain comparisons (slow, but exact)
        for i in range(n):
            for j in range(n):
                if i != j:
                    d[i][j] = sum(compress(weights, map(lt, columns[i], columns[j])))
        return d
    width = 2 if n + 1 <= 16 else (4 if n + 1 <= 32 else 8)

    def big(column: bytes, lane_values: list[int]) -> int:
        """One lane of ``width`` bytes per ballot holding ``lane_values[position]``, as an int."""
        buf = bytearray(width * count)
        for k in range(width):
            table = bytes((lane_values[p] >> (8 * k)) & 0xFF if p < len(lane_values) else 0 for p in range(256))
            buf[k::width] = column.translate(table)
        return int.from_bytes(buf, "little")

    if complete:
        # onehot[i] has bit r set in a ballot's lane when option i is ranked r-th; every lane holds
        # exactly one bit, so subtracting 1 from each lane (no borrow) gives the ranks above i.
        ones = int.from_bytes((b"\x01" + bytes(width - 1)) * count, "little")
        onehot = [0] * n
        for r in range(n):
            at_rank = flat[r::n]
            for i in range(n):
                onehot[i] |= big(at_rank, [int(p == i) for p in range(n)]) << r
        above = [h - ones for h in onehot]
    else:
        onehot_of = [1 << p for p in range(n + 1)]
        above_of = [(1 << p) - 1 for p in range(n + 1)]
        onehot = [big(col, onehot_of) for col in columns]
        above = [big(col, above_of) for col in columns]
    if all(w == 1 for w in weights):
        masks: list[tuple[int, int | None]] = [(1, None)]
    else:
        full = [0, (1 << (8 * width)) - 1]
        masks = [
            (1 << bit, big(bytes(map(bool, map((1 << bit).__and__, weights))), full))
            for bit in range(max(weights).bit_length())
        ]
    for i in range(n):
        oi = onehot[i]
        for j in range(n):
            if i == j:
                continue
            both = oi & above[j]
            if not both:
                continue
            total = 0
            for value, mask in masks:
                total += value * (both if mask is None else both & mask).bit_count()
            d[i][j] = total
    return d


def strongest_paths(d: list[list[int]], strength: str) -> tuple[list[list[int]], list[list[int]]]:
    """Link strengths and strongest-path strengths (Floyd-Warshall widest paths)."""
    n = len(d)
    link = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j and d[i][j] > d[j][i]:
                link[i][j] = d[i][j] if strength == "winning_votes" else d[i][j] - d[j][i]
    p = [row[:] for row in link]
    for k in range(n):
        pk = p[k]
        for i in range(n):
            if i == k:
                continue
            pik = p[i][k]
            if not pik:
                continue
            pi = p[i]
            for j in range(n):
                if j != i and j != k:
                    via = pik if pik < pk[j] else pk[j]
                    if via > pi[j]:
                        pi[j] = via
    return link, p


def schulze_tiers(options: tuple[str, ...], p: list[list[int]]) -> list[tuple[str, ...]]:
    """Full ranking: repeatedly take the options no remaining option beats (x beats y iff p[x][y] > p[y][x])."""
    remaining = list(range(len(options)))
    tiers = []
    while remaining:
        top = [i for i in remaining if not any(p[j][i] > p[i][j] for j in remaining if j != i)]
        tiers.append(tuple(sorted(options[i] for i in top)))
        remaining = [i for i in remaining if i not in top]
    return tiers


def count_schulze(rules: Rules, profile: dict[Key, int], fmt: Fmt) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    options = rules.options
    d = pairwise_matrix(options, profile)
    _link, p = strongest_paths(d, rules.schulze_strength)
    tiers = schulze_tiers(options, p)

    def table(m: Iterable[list[int]]) -> dict[str, dict[str, Any]]:
        return {
            a: {b: fmt(v) for b, v in zip(options, row, strict=True) if b != a}
            for a, row in zip(options, m, strict=True)
        }

    details = {
        "ballots": fmt(sum(profile.values())),
        "strength": rules.schulze_strength,
        "pairwise": table(d),
        "strongest_paths": table(p),
    }
    return tiers, details
