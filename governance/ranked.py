"""Instant-runoff and Schulze counts on aggregated ranked ballots.

A normalised ranked ballot is a tuple whose items are option ids, or (Schulze only) sorted tuples of
option ids ranked equally. Options a ballot leaves out rank equally below all it ranks (Schulze) or
are never reached (instant-runoff: the ballot is then exhausted).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress, repeat
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

    Each distinct ballot becomes a position map; per option a column of positions across distinct
    ballots is built with C-level ``map``; each pair is then one ``sum(map(lt, ...))`` pass.
    """
    n = len(options)
    unranked = n + 1
    maps = []
    for key in profile:
        if all(item.__class__ is str for item in key):
            maps.append(dict(zip(key, range(len(key)), strict=False)))
        else:
            pos: dict[str, int] = {}
            for rank, item in enumerate(key):
                if item.__class__ is str:
                    pos[item] = rank
                else:
                    for o in item:
                        pos[o] = rank
            maps.append(pos)
    weights = list(profile.values())
    unit = all(w == 1 for w in weights)
    count = len(maps)
    columns = [list(map(dict.get, maps, repeat(o, count), repeat(unranked, count))) for o in options]
    d = [[0] * n for _ in range(n)]
    for i in range(n):
        ci = columns[i]
        for j in range(n):
            if i == j:
                continue
            if unit:
                d[i][j] = sum(map(lt, ci, columns[j]))
            else:
                d[i][j] = sum(compress(weights, map(lt, ci, columns[j])))
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
