"""The audit log's rows and the mail outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text

from app.assemblies.repository.base import CHAIN_LOCK, RepositoryBase
from app.models import (
    AuditEvent,
    MailOutbox,
)


class AuditQueries(RepositoryBase):
    """The audit log: appends, the sequencer's lock and seals, reads for `coop audit verify`."""

    # -- audit log ------------------------------------------------------------------------------------------------

    async def append_event(self, event: AuditEvent) -> None:
        self.session.add(event)

    async def lock_chain(self) -> None:
        await self.session.execute(
            text("select pg_advisory_xact_lock(:a, :b)"), {"a": CHAIN_LOCK[0], "b": CHAIN_LOCK[1]}
        )

    async def try_lock_chain(self) -> bool:
        return bool(
            await self.session.scalar(
                text("select pg_try_advisory_xact_lock(:a, :b)"), {"a": CHAIN_LOCK[0], "b": CHAIN_LOCK[1]}
            )
        )

    async def chain_head(self) -> tuple[int, bytes | None]:
        row = (
            await self.session.execute(
                select(AuditEvent.seq, AuditEvent.hash)
                .where(AuditEvent.seq.is_not(None))  # type: ignore[union-attr]
                .order_by(AuditEvent.seq.desc())  # type: ignore[union-attr]
                .limit(1)
            )
        ).first()
        return (0, None) if row is None else (int(row[0]), row[1])

    async def unchained(self, limit: int) -> list[tuple[int, bytes]]:
        rows = await self.session.execute(
            select(AuditEvent.id, AuditEvent.digest)
            .where(AuditEvent.seq.is_(None))  # type: ignore[union-attr]
            .order_by(AuditEvent.id)
            .limit(limit)
        )
        return [(int(row[0]), row[1]) for row in rows]

    async def seal_events(self, links: list[dict[str, Any]]) -> None:
        await self.session.execute(
            text(
                "update audit_event set seq = l.seq, prev_hash = l.prev_hash, hash = l.hash, chained_at = now() "
                "from (select unnest(cast(:ids as bigint[])) as id, unnest(cast(:seqs as bigint[])) as seq, "
                "unnest(cast(:prevs as bytea[])) as prev_hash, unnest(cast(:hashes as bytea[])) as hash) l "
                "where audit_event.id = l.id and audit_event.seq is null"
            ),
            {
                "ids": [link["id"] for link in links],
                "seqs": [link["seq"] for link in links],
                "prevs": [link["prev_hash"] for link in links],
                "hashes": [link["hash"] for link in links],
            },
        )

    async def events_in_chain_order(self, after_seq: int, limit: int) -> Sequence[AuditEvent]:
        return (
            await self.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.seq > after_seq)  # type: ignore[operator]
                .order_by(AuditEvent.seq)
                .limit(limit)
            )
        ).all()

    async def unchained_count(self) -> int:
        return int(
            await self.session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) or 0  # type: ignore[union-attr]
        )

    async def close_events(self, proposal_id: uuid.UUID) -> Sequence[AuditEvent]:
        """The proposal's close events, first first (the unique index allows one; an owner could drop it)."""
        return (
            await self.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.kind.in_(("proposal.closed", "proposal.void")),  # type: ignore[attr-defined]
                    AuditEvent.proposal_id == proposal_id,
                )
                .order_by(AuditEvent.seq.asc().nulls_last(), AuditEvent.id)  # type: ignore[union-attr]
            )
        ).all()

    async def event_with_hash(self, link_hash: bytes) -> AuditEvent | None:
        return await self.session.scalar(select(AuditEvent).where(AuditEvent.hash == link_hash).limit(1))


class OutboxQueries(RepositoryBase):
    """The mail outbox: queued mails, claimed and sent by the background loop."""

    # -- mail outbox ----------------------------------------------------------------------------------------------

    async def enqueue_mail_to_roll(
        self,
        *,
        kind: str,
        electorate_id: uuid.UUID,
        subject: str,
        body: str,
        assembly_id: uuid.UUID | None,
        proposal_id: uuid.UUID | None,
        only_non_voters_of: uuid.UUID | None = None,
    ) -> int:
        """One mail per member of a roll (the body may hold `{name}`), in one statement."""
        condition = ""
        if only_non_voters_of is not None:
            condition = (
                " and not exists (select 1 from ballot_register r where r.proposal_id = :non_voters"
                " and r.voter_id = a.id)"
            )
        result = await self.session.execute(
            text(
                "insert into mail_outbox (kind, account_id, to_email, subject, body, assembly_id, proposal_id) "
                "select :kind, a.id, a.email, :subject, replace(:body, '{name}', a.display_name), :assembly, :proposal "
                "from electorate_member m join account a on a.id = m.account_id "
                "where m.electorate_id = :electorate" + condition
            ),
            {
                "kind": kind,
                "subject": subject,
                "body": body,
                "assembly": assembly_id,
                "proposal": proposal_id,
                "electorate": electorate_id,
                **({"non_voters": only_non_voters_of} if only_non_voters_of else {}),
            },
        )
        return result.rowcount or 0  # type: ignore[attr-defined]

    async def enqueue_mail_to_account(
        self,
        *,
        kind: str,
        account_id: uuid.UUID,
        subject: str,
        body: str,
        assembly_id: uuid.UUID | None,
        proposal_id: uuid.UUID | None,
    ) -> None:
        await self.session.execute(
            text(
                "insert into mail_outbox (kind, account_id, to_email, subject, body, assembly_id, proposal_id) "
                "select :kind, a.id, a.email, :subject, replace(:body, '{name}', a.display_name), :assembly, :proposal "
                "from account a where a.id = :account"
            ),
            {
                "kind": kind,
                "subject": subject,
                "body": body,
                "assembly": assembly_id,
                "proposal": proposal_id,
                "account": account_id,
            },
        )

    async def claim_mails(self, limit: int) -> Sequence[MailOutbox]:
        return (
            await self.session.scalars(
                select(MailOutbox)
                .where(MailOutbox.sent_at.is_(None), MailOutbox.attempts < 5)  # type: ignore[union-attr]
                .order_by(MailOutbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def mails_of(self, assembly_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[MailOutbox], int]:
        rows = await self.session.scalars(
            select(MailOutbox)
            .where(MailOutbox.assembly_id == assembly_id)
            .order_by(MailOutbox.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).where(MailOutbox.assembly_id == assembly_id))
        return rows.all(), int(total or 0)
