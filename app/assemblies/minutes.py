"""The minutes (procès-verbal) of a closed assembly, in Markdown and HTML, ready for signature."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.models import Assembly, Proposal


@dataclass(frozen=True)
class SheetLine:
    name: str
    college: str | None
    status: str  # "present", "represented by X", "voted online", "postal", "absent"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def render(
    assembly: Assembly,
    proposals: Sequence[Proposal],
    sheet: Sequence[SheetLine],
    roll_sha256: str | None,
    chain_head: str | None,
) -> tuple[str, str]:
    """(markdown, html) of the minutes."""
    counts: dict[str, int] = {}
    for line in sheet:
        key = line.status.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
    md: list[str] = [
        f"# Procès-verbal — {assembly.title}",
        "",
        f"{assembly.kind.capitalize()} general assembly, {'second' if assembly.call == 2 else 'first'} call, "
        f"convened for {_when(assembly.scheduled_at)} at {assembly.location or 'a distance (online)'}. "
        f"The vote opened on {_when(assembly.opened_at)} and closed on {_when(assembly.closed_at)}"
        + (
            f" (planned window: {_when(assembly.voting_opens_at)} to {_when(assembly.voting_closes_at)})."
            if assembly.voting_opens_at or assembly.voting_closes_at
            else "."
        ),
        "",
        f"Convened on {_when(assembly.convened_at)}; electorate frozen at convocation: {len(sheet)} members "
        f"(roll SHA-256 `{roll_sha256 or '-'}`).",
        "",
        "## Attendance sheet",
        "",
        f"Present: {counts.get('present', 0)} · represented: {counts.get('represented', 0)} · "
        f"voted online: {counts.get('voted', 0)} · by post: {counts.get('postal', 0)} · "
        f"absent: {counts.get('absent', 0)}",
        "",
        "| Member | College | Attendance |",
        "|---|---|---|",
    ]
    md += [f"| {_cell(line.name)} | {_cell(line.college or '-')} | {_cell(line.status)} |" for line in sheet]
    md += ["", "## Resolutions", ""]
    for number, proposal in enumerate(proposals, 1):
        md += [
            f"### {number}. {proposal.title}",
            "",
            proposal.text,
            "",
            f"- Method: {proposal.method}; {'secret' if proposal.secret else 'public'} ballot",
            f"- Voting: opened {_when(proposal.opened_at)}, closed {_when(proposal.closed_at)}",
            f"- Outcome: **{proposal.outcome or 'not voted'}**",
            f"- Certificate SHA-256: `{proposal.certificate_sha256 or '-'}`",
            f"- Ballot box SHA-256: `{proposal.box_sha256 or '-'}`",
        ]
        if proposal.action:
            applied = _when(proposal.action_applied_at) if proposal.action_applied_at else "not applied"
            md.append(f"- Binding action `{proposal.action.get('type')}`: {applied}")
        md += ["", "```text", (proposal.explanation or "").rstrip(), "```", ""]
    md += [
        "## Verification",
        "",
        "Each result can be recomputed offline from its certificate with `python -m governance verify`.",
        f"Audit log chain head when the minutes were written: `{chain_head or '-'}`.",
        "",
        f"Minutes drawn up on {_when(assembly.closed_at)}.",
        "",
        "The chair: ______________________        The secretary: ______________________",
        "",
    ]
    markdown = "\n".join(md)
    return markdown, _html(assembly, markdown)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _html(assembly: Assembly, markdown: str) -> str:
    """A small, safe Markdown-to-HTML rendering of exactly what `render` writes (everything is escaped)."""
    out = [
        "<!doctype html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>Procès-verbal — {html.escape(assembly.title)}</title></head><body>",
    ]
    in_table = in_code = False
    for line in markdown.split("\n"):
        if line.startswith("```"):
            out.append("<pre>" if not in_code else "</pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in line.strip("|").split(" | ")]
            if set(line) <= {"|", "-"}:
                continue
            if not in_table:
                out.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
                in_table = True
            else:
                out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<p>• {_inline(line[2:])}</p>")
        elif line:
            out.append(f"<p>{_inline(line)}</p>")
    if in_table:
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def _inline(text: str) -> str:
    escaped = html.escape(text)
    parts = escaped.split("`")
    escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
