"""Single transferable vote: Droop quota and Weighted Inclusive Gregory, per the Scottish rules.

Follows Schedule 1 of the Scottish Local Government Elections Order 2007 (rules 45 to 53):

* quota (rule 46): valid first preferences / (seats + 1), fraction disregarded, plus one;
* a candidate whose votes equal or exceed the quota is elected (rule 47);
* surpluses are transferred largest first (rule 49); every ballot paper the elected candidate holds
  is transferred to its next *continuing* preference (not elected, not excluded) at the transfer
  value ``surplus x value when received / candidate's total``, computed to five decimal places
  with any remainder ignored (rule 48(3)); papers with no further continuing preference are
  non-transferable; the value lost to truncation is reported;
* when no surplus remains, the candidate with fewest votes is excluded and all their papers move
  at their current value (rule 50);
* ties (equal surpluses, equal lowest votes) look back to the earliest stage at which the tied
  candidates had unequal votes, then go to lot (rules 49(3) and 50(2), as we read them);
* when continuing candidates are no more than the vacancies left, they are all elected (rule 53).

Arithmetic is exact: votes are integers in units of 1/100000 of a vote (the Scottish five decimals).
"""

from __future__ import annotations

from typing import Any

from .counting import Key
from .lot import Lot
from .model import Rules

SCALE = 100_000


def votes_str(value: int) -> str:
    """Scaled integer votes -> decimal string with five places, e.g. ``"12.50000"``."""
    return f"{value // SCALE}.{value % SCALE:05d}"


def count_stv(
    rules: Rules, profile: dict[Key, int], lot: Lot
) -> tuple[list[tuple[str, ...]], tuple[str, ...], dict[str, Any]]:
    options = rules.options
    seats = rules.seats
    valid = sum(profile.values())
    quota_votes = valid // (seats + 1) + 1
    quota = quota_votes * SCALE
    # Parcels: [preferences, number of papers, value of each paper (scaled), position of current preference]
    piles: dict[str, list[tuple[Key, int, int, int]]] = {o: [] for o in options}
    votes = dict.fromkeys(options, 0)
    for key, n in sorted(profile.items()):
        piles[key[0]].append((key, n, SCALE, 0))
        votes[key[0]] += n * SCALE
    continuing = list(options)
    elected: list[str] = []
    excluded: list[str] = []
    pending: list[str] = []  # elected, surplus not yet transferred
    history: list[dict[str, int]] = []
    stages: list[dict[str, Any]] = []
    non_transferable = 0
    lost = 0
    earlier_stage_ties: list[dict[str, Any]] = []

    def snapshot() -> dict[str, int]:
        return dict(votes)

    def earliest_stage_order(tied: list[str], highest: bool, context: str) -> str:
        group = list(tied)
        for past in history:
            vals = {c: past[c] for c in group}
            best = max(vals.values()) if highest else min(vals.values())
            narrowed = [c for c in group if vals[c] == best]
            if len(narrowed) < len(group):
                group = narrowed
                if len(group) == 1:
                    earlier_stage_ties.append({"context": context, "tied": sorted(tied), "chosen": group[0]})
                    return group[0]
        return lot.order(group, context)[0]

    def move(parcels: list[tuple[Key, int, int, int]], value_of: Any) -> dict[str, int]:
        nonlocal non_transferable
        transfers: dict[str, int] = {}
        cont = set(continuing)
        for key, n, value, pos in parcels:
            new_value = value_of(value)
            for nxt in range(pos + 1, len(key)):
                o = key[nxt]
                if o in cont:
                    piles[o].append((key, n, new_value, nxt))
                    votes[o] += n * new_value
                    transfers[o] = transfers.get(o, 0) + n * new_value
                    break
            else:
                non_transferable += n * new_value
                transfers["(non-transferable)"] = transfers.get("(non-transferable)", 0) + n * new_value
        return transfers

    def record(action: str, **extra: Any) -> None:
        history.append(snapshot())
        stage = {
            "stage": len(stages) + 1,
            "action": action,
            "votes": {o: votes_str(votes[o]) for o in options if o in continuing or o in elected},
            "non_transferable": votes_str(non_transferable),
            **extra,
        }
        stages.append(stage)

    record("first preferences")
    while True:
        reached = [c for c in continuing if votes[c] >= quota]
        if reached:
            # Elect in order of votes (highest first), ties by earliest stage, then lot.
            ordered: list[str] = []
            rest = list(reached)
            while rest:
                top = max(votes[c] for c in rest)
                tied = [c for c in rest if votes[c] == top]
                pick = tied[0] if len(tied) == 1 else earliest_stage_order(tied, True, "STV: order of election")
                ordered.append(pick)
                rest.remove(pick)
            for c in ordered:
                continuing.remove(c)
                elected.append(c)
                if votes[c] > quota:
                    pending.append(c)
            stages[-1]["elected"] = stages[-1].get("elected", []) + ordered
        if len(elected) >= seats:
            break
        if len(continuing) <= seats - len(elected):
            last = sorted(continuing, key=lambda c: (-votes[c], c))
            elected.extend(last)
            stages[-1]["elected"] = stages[-1].get("elected", []) + last
            stages[-1]["note"] = "continuing candidates no more than vacancies left (rule 53)"
            continuing.clear()
            break
        if pending:
            top = max(votes[c] - quota for c in pending)
            tied = [c for c in pending if votes[c] - quota == top]
            c = tied[0] if len(tied) == 1 else earliest_stage_order(tied, True, "STV: order of surplus transfers")
            pending.remove(c)
            surplus = votes[c] - quota
            total = votes[c]
            parcels = piles.pop(c)
            piles[c] = []
            before = non_transferable + sum(votes[o] for o in continuing)
            transfers = move(parcels, lambda value, s=surplus, t=total: s * value // t)
            moved = non_transferable + sum(votes[o] for o in continuing) - before
            lost += surplus - moved
            votes[c] = quota
            record(
                f"transfer of the surplus of {c}",
                surplus=votes_str(surplus),
                transfer_value=f"{votes_str(surplus)} x value / {votes_str(total)}",
                transfers={o: votes_str(v) for o, v in sorted(transfers.items())},
                lost_to_truncation=votes_str(surplus - moved),
            )
            continue
        low = min(votes[c] for c in continuing)
        tied = [c for c in continuing if votes[c] == low]
        c = tied[0] if len(tied) == 1 else earliest_stage_order(tied, False, "STV: exclusion")
        continuing.remove(c)
        excluded.append(c)
        parcels = piles.pop(c)
        piles[c] = []
        transfers = move(parcels, lambda value: value)
        votes[c] = 0
        record(f"exclusion of {c}", transfers={o: votes_str(v) for o, v in sorted(transfers.items())})

    losers = [o for o in options if o not in elected and o not in excluded]
    losers.sort(key=lambda o: (-votes[o], o))
    tiers = [(c,) for c in elected] + [(c,) for c in losers] + [(c,) for c in reversed(excluded)]
    details = {
        "valid_ballots": valid,
        "seats": seats,
        "quota": quota_votes,
        "arithmetic": "five decimal places, remainder ignored (Scottish rule 48(3)); exact integers",
        "stages": stages,
        "elected": list(elected),
        "non_transferable": votes_str(non_transferable),
        "lost_to_truncation": votes_str(lost),
        "ties_settled_by_earlier_stages": earlier_stage_ties,
    }
    return tiers, tuple(elected[:seats]), details
