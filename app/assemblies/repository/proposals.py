"""Proposals, their page in one statement, comments and proxies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm.attributes import set_committed_value

from app.assemblies.repository.base import PROXY_LOCKS, RepositoryBase, json_column, lock_key, positional_sql
from app.models import (
    Account,
    Cosignature,
    Proposal,
    ProposalComment,
    Proxy,
)


@dataclass(frozen=True, slots=True)
class ProposalPage:
    """What `GET /proposals/{id}` shows, read in one statement (the same names as `Proposal`'s),
    with what deciding who may see it needs (`viewer_in_college`)."""

    id: uuid.UUID
    assembly_id: uuid.UUID | None
    agenda_position: int | None
    kind: str
    title: str
    text: str
    method: str
    options: list[dict[str, Any]]
    settings: dict[str, Any]
    rules: dict[str, Any] | None
    secret: bool
    results_visible: bool
    state: str
    initiative: bool
    author_id: uuid.UUID | None
    action: dict[str, Any] | None
    opens_at: datetime | None
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    certificate_sha256: str | None
    box_sha256: str | None
    action_applied_at: datetime | None
    electorate_size: int | None
    roll_sha256: str | None
    viewer_in_college: bool
    cosignatures: int | None  # initiatives only
    cosignatures_needed: int | None  # initiatives only; None too when no statutes are stored yet


_PAGE_FIELDS: tuple[str, ...] = ProposalPage.__slots__  # type: ignore[attr-defined]
_PAGE_JSON = tuple(_PAGE_FIELDS.index(name) for name in ("options", "settings", "rules", "action"))
_PAGE_NEEDED = _PAGE_FIELDS.index("cosignatures_needed")
_PROPOSAL_COLUMNS = ", ".join(f"p.{name}" for name in _PAGE_FIELDS[: _PAGE_FIELDS.index("electorate_size")])

# One statement for the proposal page: the proposal, its electorate's size and digest, whether the
# viewer sits in a college (a reader even if not an admitted member), and for an initiative its
# co-signatures and the number the statutes in force ask for. (The column list is the record's own
# field names: no input reaches this text.)
_PROPOSAL_PAGE = text(
    f"select {_PROPOSAL_COLUMNS}, e.size, e.roll_sha256,"  # noqa: S608
    " exists (select 1 from college_membership c where c.account_id = :viewer),"
    " case when p.initiative then (select count(*) from cosignature s where s.proposal_id = p.id) end,"
    " case when p.initiative then (select v.document -> 'initiative_cosignatures' from statute_version v"
    "   order by v.id desc limit 1) end"
    " from proposal p left join electorate e on e.id = p.electorate_id where p.id = :proposal"
)


def _proposal_page(row: Sequence[Any]) -> ProposalPage:
    columns = list(row)
    for index in (*_PAGE_JSON, _PAGE_NEEDED):
        columns[index] = json_column(columns[index])
    return ProposalPage(*columns)


class ProposalQueries(RepositoryBase):
    """Proposals, co-signatures, comments and proxies."""

    # -- proposals ------------------------------------------------------------------------------------------

    async def get_proposal(self, proposal_id: uuid.UUID) -> Proposal | None:
        return await self.session.get(Proposal, proposal_id)

    async def proposal_page(self, proposal_id: uuid.UUID, viewer_id: uuid.UUID) -> ProposalPage | None:
        """The proposal as its page shows it, in one statement; None if there is no such proposal.

        On the raw asyncpg pool (no BEGIN, no COMMIT, no ORM) while the request has written nothing;
        in the session otherwise, so that what the request changed is seen.
        """
        if self.database is not None and self._unit_untouched():
            row = await self.database.fetch_row(PROPOSAL_PAGE_SQL, proposal_id, viewer_id)
        else:
            await self.session.flush()
            row = (await self.session.execute(_PROPOSAL_PAGE, {"proposal": proposal_id, "viewer": viewer_id})).first()
        return None if row is None else _proposal_page(row)

    async def lock_proposal(self, proposal_id: uuid.UUID, *, skip_locked: bool = False) -> Proposal | None:
        query = select(Proposal).where(Proposal.id == proposal_id).with_for_update(skip_locked=skip_locked)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def list_proposals(
        self, *, assembly_id: uuid.UUID | None, state: str | None, limit: int, offset: int
    ) -> tuple[Sequence[Proposal], int]:
        query = select(Proposal)
        count = select(func.count()).select_from(Proposal)
        if assembly_id is not None:
            query = query.where(Proposal.assembly_id == assembly_id)
            count = count.where(Proposal.assembly_id == assembly_id)
        if state is not None:
            query = query.where(Proposal.state == state)
            count = count.where(Proposal.state == state)
        rows = await self.session.scalars(
            query.order_by(Proposal.created_at.desc(), Proposal.id).limit(limit).offset(offset)  # type: ignore[attr-defined]
        )
        return rows.all(), int(await self.session.scalar(count) or 0)

    async def cosignature_counts(self, proposal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not proposal_ids:
            return {}
        rows = await self.session.execute(
            select(Cosignature.proposal_id, func.count())
            .where(Cosignature.proposal_id.in_(proposal_ids))  # type: ignore[attr-defined]
            .group_by(Cosignature.proposal_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def cosign(self, proposal_id: uuid.UUID, account_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            pg_insert(Cosignature)
            .values(proposal_id=proposal_id, account_id=account_id)
            .on_conflict_do_nothing()
            .returning(Cosignature.account_id)
        )
        return result.first() is not None

    async def due_to_open(self) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Proposal.id)
            .where(
                Proposal.state == "scheduled",
                Proposal.assembly_id.is_(None),  # type: ignore[union-attr]
                Proposal.opens_at <= func.now(),  # type: ignore[operator]
            )
            .limit(20)
        )
        return list(rows)

    async def claim_due_to_close(self) -> Proposal | None:
        """One open vote past its closing time that no other process is closing right now."""
        return await self.session.scalar(
            select(Proposal)
            .where(
                Proposal.state == "open",
                Proposal.closes_at <= func.now(),  # type: ignore[operator]
                # The bureau's scrutineers count those: the key to their ballots is not here.
                Proposal.key_custody.is_distinct_from("bureau"),  # type: ignore[union-attr]
            )
            .order_by(Proposal.closes_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )

    async def claim_reminders(self, hours: float) -> Sequence[Proposal]:
        """Open votes due for their reminder: `hours` before the close, never before mid-window."""
        rows = await self.session.scalars(
            update(Proposal)
            .where(
                Proposal.state == "open",
                Proposal.reminder_sent_at.is_(None),  # type: ignore[union-attr]
                Proposal.closes_at > func.now(),  # type: ignore[operator]
                text(
                    "greatest(proposal.closes_at - make_interval(secs => :reminder_seconds),"
                    " proposal.opened_at + (proposal.closes_at - proposal.opened_at) / 2) <= now()"
                ).bindparams(reminder_seconds=hours * 3600),
            )
            .values(reminder_sent_at=func.now())
            .returning(Proposal)
        )
        return rows.all()

    # -- comments ---------------------------------------------------------------------------------------------

    @staticmethod
    def show_loaded(row: Any, column: str, value: str) -> None:
        """A loaded row's column given the value the caller sees (an opened sealed comment) as if loaded
        from the database: not a change, so a flush never writes it back in clear."""
        set_committed_value(row, column, value)

    async def comments(self, proposal_id: uuid.UUID, *, limit: int, offset: int) -> tuple[list[Any], int]:
        rows = await self.session.execute(
            select(ProposalComment, Account.display_name)
            .join(Account, Account.id == ProposalComment.author_id)
            .where(ProposalComment.proposal_id == proposal_id)
            .order_by(ProposalComment.created_at, ProposalComment.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).where(ProposalComment.proposal_id == proposal_id))
        return [(row[0], row[1]) for row in rows], int(total or 0)

    # -- proxies ----------------------------------------------------------------------------------------------

    async def lock_proxy_scope(self, scope_id: uuid.UUID) -> None:
        await self.session.execute(
            text("select pg_advisory_xact_lock(:ns, :key)"), {"ns": PROXY_LOCKS, "key": lock_key(scope_id)}
        )

    def _scope(self, assembly_id: uuid.UUID | None, proposal_id: uuid.UUID | None) -> Any:
        if assembly_id is not None:
            return Proxy.assembly_id == assembly_id
        return Proxy.proposal_id == proposal_id

    async def active_proxies(self, *, assembly_id: uuid.UUID | None, proposal_id: uuid.UUID | None) -> Sequence[Proxy]:
        rows = await self.session.scalars(
            select(Proxy)
            .where(self._scope(assembly_id, proposal_id), Proxy.revoked_at.is_(None))  # type: ignore[union-attr]
            .order_by(Proxy.created_at)
        )
        return rows.all()

    async def revoke_proxy(
        self, *, assembly_id: uuid.UUID | None, proposal_id: uuid.UUID | None, principal_id: uuid.UUID
    ) -> bool:
        result = await self.session.execute(
            update(Proxy)
            .where(
                self._scope(assembly_id, proposal_id),
                Proxy.principal_id == principal_id,
                Proxy.revoked_at.is_(None),  # type: ignore[union-attr]
            )
            .values(revoked_at=func.now())
            .returning(Proxy.id)
        )
        return result.first() is not None

    async def revoke_proxies_outside(self, proposal_id: uuid.UUID, electorate_id: uuid.UUID) -> int:
        """At the opening of a standalone vote: proxies of people outside the frozen roll lapse."""
        result = await self.session.execute(
            text(
                "update proxy set revoked_at = now() where proposal_id = :p and revoked_at is null and ("
                " principal_id not in (select account_id from electorate_member where electorate_id = :e)"
                " or (holder_id is not null and holder_id not in"
                "     (select account_id from electorate_member where electorate_id = :e)))"
            ),
            {"p": proposal_id, "e": electorate_id},
        )
        return result.rowcount or 0  # type: ignore[attr-defined]


# Public for bench/api_bench.py, whose ceiling reads a proposal's page with the API's own statement.
PROPOSAL_PAGE_SQL = positional_sql(_PROPOSAL_PAGE.text, ["proposal", "viewer"])
