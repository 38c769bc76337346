"""Human-readable rendering of a :class:`~governance.result.Result`."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .model import Method

_OUTCOME_TEXT = {
    "adopted": "ADOPTED",
    "rejected": "REJECTED",
    "no_quorum": "NO QUORUM: the decision cannot be taken",
    "elected": "ELECTED",
    "tie": "TIE (no tie-break by lot in these rules)",
    "no_votes": "NO RESULT: no ballot expressed a choice",
}


def pct(value: str | None) -> str:
    """``"2/3"`` -> ``"66.67% (2/3)"``."""
    if value is None:
        return "n/a"
    f = Fraction(value)
    return f"{float(f * 100):.2f}% ({value})"


def _num(value: Any) -> str:
    if isinstance(value, str) and "/" in value:
        return f"{float(Fraction(value)):.4f}"
    return str(value)


def render(result: Any) -> str:
    d = result.details
    q = result.quorum
    lines = [f"Method: {result.method.value}"]
    if q["required"] is None:
        lines.append(f"Quorum: none required; {q['participants']} of {q['electorate']} members took part.")
    else:
        status = "met" if q["met"] else "NOT met"
        lines.append(
            f"Quorum: {pct(q['required'])} of {q['electorate']} members, i.e. {q['needed']} needed; "
            f"{q['participants']} took part (proxies included): {status}."
        )
    if result.participation.get("blank"):
        lines.append(f"Blank ballots: {result.participation['blank']}.")
    att = getattr(result, "attendance", None)
    if att:
        lines.append(
            f"Attendance: {att['in_person']} in person, {att['by_proxy']} by proxy, {att['blank_proxies']} blank "
            f"proxies, {att['cancelled_proxies']} proxies cancelled by an in-person vote."
        )
    method = result.method
    if method is Method.MOTION:
        c = d["counts"]
        lines.append(f"Votes: yes {c['yes']}, no {c['no']}, abstain {c['abstain']}, blank {c['blank']}.")
        lines.append(f"Votes cast: {d['cast']}; base of the threshold: {d['base']}.")
        for col in d.get("colleges", []):
            cc = col["counts"]
            empty = " (empty)" if col["empty"] else ""
            weights = f"weight {pct(col['weight'])}, effective {pct(col['effective_weight'])}"
            votes = f"yes {cc['yes']}, no {cc['no']}, abstain {cc['abstain']}, blank {cc['blank']}"
            lines.append(f"  College {col['college']}{empty}: {weights}; {votes}; yes share {pct(col['yes_share'])}.")
        share = d.get("weighted_yes_share", d["yes_share"]) if "colleges" in d else d["yes_share"]
        lines.append(f"Yes share: {pct(share)}; required: {d['threshold_text']} -> {'met' if d['met'] else 'not met'}.")
        if d.get("note"):
            lines.append(f"Note: {d['note']}.")
    elif method is Method.CONSENT:
        c = d["counts"]
        lines.append(", ".join(f"{k} {v}" for k, v in c.items()) + ".")
        if d["blocks"]:
            lines.append("Blocks:")
            for b in d["blocks"]:
                lines.append(f"  {b['count']} x {b['reason'] or '(no reason given)'}")
        else:
            lines.append("Nobody blocked.")
        if d.get("note"):
            lines.append(f"Note: {d['note']}.")
    elif method in (Method.SINGLE_CHOICE, Method.APPROVAL, Method.SCORE):
        key = {"single_choice": "counts", "approval": "approvals", "score": "totals"}[method.value]
        if key in d:
            shares = d.get("shares") or d.get("averages")
            label = "average" if method is Method.SCORE else "share"
            for o, v in sorted(d[key].items(), key=lambda kv: -Fraction(kv[1])):
                extra = shares[o] if shares else None
                shown = _num(extra) if method is Method.SCORE else pct(extra)
                lines.append(f"  {o}: {_num(v)} ({label} {shown})")
    elif method is Method.MAJORITY_JUDGMENT and "options" in d:
        lines.append("Grades, best first: " + ", ".join(d["grades"]))
        for o, info in d["options"].items():
            hist = ", ".join(f"{g} {_num(n)}" for g, n in info["grades"].items())
            lines.append(
                f"  {o}: majority grade {info['majority_grade']}{info['gauge']} "
                f"(better {pct(info['better_share'])}, worse {pct(info['worse_share'])}); {hist}"
            )
    elif method is Method.INSTANT_RUNOFF and "rounds" in d:
        for r in d["rounds"]:
            votes = ", ".join(f"{o} {_num(v)}" for o, v in r["votes"].items())
            lines.append(f"  Round {r['round']}: {votes}; exhausted {_num(r['exhausted'])}.")
            if "winner" in r:
                lines.append(f"    {r['winner']} wins with {pct(r['majority'])} of continuing ballots.")
            else:
                tb = " (tie settled by lot)" if r.get("tie_break") else ""
                moves = ", ".join(f"{o} +{_num(v)}" for o, v in r["transfers"].items())
                lines.append(f"    {r['eliminated']} eliminated{tb}; transfers: {moves or 'none'}.")
    elif method is Method.SCHULZE and "pairwise" in d:
        opts = list(d["pairwise"])
        width = max(len(o) for o in opts) + 2
        for title, m in (
            ("Pairwise preferences d[row][col]", d["pairwise"]),
            ("Strongest paths p[row][col]", d["strongest_paths"]),
        ):
            lines.append(f"{title}:")
            lines.append(" " * width + "".join(o.rjust(width) for o in opts))
            for a in opts:
                cells = "".join(("-" if a == b else _num(m[a][b])).rjust(width) for b in opts)
                lines.append(a.ljust(width) + cells)
    elif method is Method.STV and "stages" in d:
        lines.append(f"Valid ballots {d['valid_ballots']}, seats {d['seats']}, Droop quota {d['quota']}.")
        for s in d["stages"]:
            lines.append(f"  Stage {s['stage']}: {s['action']}")
            if "surplus" in s:
                lines.append(f"    surplus {s['surplus']}; transfer value = {s['transfer_value']} (5 d.p., truncated)")
            if "transfers" in s:
                moves = ", ".join(f"{o} +{v}" for o, v in s["transfers"].items())
                lines.append(f"    transfers: {moves or 'none'}")
            lines.append("    votes: " + ", ".join(f"{o} {v}" for o, v in s["votes"].items()))
            if s.get("elected"):
                lines.append("    elected: " + ", ".join(s["elected"]))
            if s.get("note"):
                lines.append(f"    ({s['note']})")
        lines.append(f"Non-transferable: {d['non_transferable']}; lost to truncation: {d['lost_to_truncation']}.")
    if d.get("colleges") and method not in (Method.MOTION, Method.CONSENT):
        for col in d["colleges"]:
            lines.append(
                f"  College {col['college']}: weight {pct(col['weight'])}, effective {pct(col['effective_weight'])}, "
                f"{col['ballots']} ballots."
            )
    if result.ranking:
        lines.append("Ranking: " + " > ".join(" = ".join(t) for t in result.ranking))
    for tb in result.tie_breaks:
        lines.append(
            f"Tie-break by lot ({tb['context']}): tied {', '.join(tb['tied'])}; drawn order {', '.join(tb['order'])}."
        )
    if result.seed:
        lines.append(f"Lot seed: SHA-256 of the canonical ballots = {result.seed}")
    outcome = _OUTCOME_TEXT.get(result.outcome, result.outcome)
    if result.winners:
        outcome += ": " + ", ".join(result.winners)
    lines.append(f"Outcome: {outcome}")
    return "\n".join(lines)
