"""Texts of the governance mails (`{name}` is replaced by each recipient's display name in SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.models import Assembly, Proposal


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _agenda(proposals: Sequence[Proposal]) -> str:
    return (
        "\n".join(
            f"  {i}. {p.title} ({p.method}, {'secret' if p.secret else 'public'} ballot)"
            for i, p in enumerate(proposals, 1)
        )
        or "  (no item)"
    )


def convocation(assembly: Assembly, agenda: Sequence[Proposal], base_url: str, notice_days: int) -> tuple[str, str]:
    subject = f"Convocation: {assembly.title} ({assembly.kind} general assembly, {_when(assembly.scheduled_at)})"
    documents = "\n".join(f"  - {d['title']}: {d['url']}" for d in assembly.documents) or "  (none)"
    call = "second call" if assembly.call == 2 else "first call"
    body = f"""Dear {{name}},

You are convened to the {assembly.kind} general assembly of the cooperative ({call}):

  {assembly.title}
  Date: {_when(assembly.scheduled_at)}
  Place: {assembly.location or "online"}
  Online voting: from {_when(assembly.voting_opens_at)} to {_when(assembly.voting_closes_at)}

Agenda:
{_agenda(agenda)}

Documents:
{documents}

You may vote online, by post, in the room, or give a proxy to another member before the vote opens:
{base_url}/api/v1/assemblies/{assembly.id}

This convocation is sent at least {notice_days} days before the assembly, as the statutes require.
"""
    return subject, body


def opening(title: str, closes_at: datetime | None, url: str) -> tuple[str, str]:
    subject = f"The vote is open: {title}"
    body = f"""Dear {{name}},

The vote "{title}" is open until {_when(closes_at)}.
Vote, or check your ballot, at {url}

Keep the receipt you get when you vote: at the close, you will find it in the published ballot box.
"""
    return subject, body


def reminder(title: str, closes_at: datetime | None, url: str) -> tuple[str, str]:
    subject = f'Reminder: the vote on "{title}" closes {_when(closes_at)}'
    body = f"""Dear {{name}},

You have not voted yet on "{title}"; the vote closes {_when(closes_at)}.
{url}
"""
    return subject, body


def results(proposal: Proposal, url: str) -> tuple[str, str]:
    subject = f"Result: {proposal.title}: {proposal.outcome}"
    body = f"""Dear {{name}},

The vote "{proposal.title}" closed at {_when(proposal.closed_at)}. Outcome: {proposal.outcome}.

{proposal.explanation or ""}

Certificate SHA-256: {proposal.certificate_sha256 or "-"}
Ballot box SHA-256: {proposal.box_sha256 or "-"}
Audit log head at the close: {_head(proposal)}
(Keep this line: `coop audit verify --since HEAD` proves the log still extends it.)
Recompute it yourself: download the certificate and run `python -m governance verify certificate.json`.
{url}
"""
    return subject, body


def _head(proposal: Proposal) -> str:
    head = proposal.audit_head or {}
    return f"link {head['seq']}, hash {head['hash']}" if head.get("hash") else "-"


def ballot_corrected(title: str, replaced: str, channel: str, note: str, url: str) -> tuple[str, str]:
    subject = f'Your ballot on "{title}" was corrected by the chair'
    body = f"""Dear {{name}},

The chair recorded a {channel} ballot for you on "{title}", replacing your own {replaced} ballot.
The chair's note: {note}

If this is not what you asked for, vote again online before the close (your own ballot replaces the
chair's), and tell the bureau. This correction is in the assembly's audit log.
{url}
"""
    return subject, body
