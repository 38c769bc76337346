"""All SQL of the assemblies feature."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.db.engine import Database
from app.models import (
    Account,
    Assembly,
    Attendance,
    AuditEvent,
    BallotKeyShare,
    BallotRegister,
    CollegeMembership,
    ContributionRate,
    Cosignature,
    Electorate,
    ElectorateMember,
    MailOutbox,
    MemberStatus,
    Proposal,
    ProposalComment,
    Proxy,
    PublishedBallot,
    Role,
    StatuteVersion,
    TrusteeKey,
)

# Namespaces of the advisory locks (first argument of the two-int form).
CAST_LOCKS = 0x5A11  # shared by casts, exclusive for the close: no ballot lands after the count
PROXY_LOCKS = 0x5A12  # serialises proxy declarations of one scope (the cap is checked against the others)
CHAIN_LOCK = (0x5A13, 1)  # the audit sequencer


def lock_key(identifier: uuid.UUID) -> int:
    return int.from_bytes(identifier.bytes[:4], "big", signed=True)


def _json(value: Any) -> Any:
    """A jsonb column as Python: asyncpg without a codec answers its text."""
    return msgspec.json.decode(value) if isinstance(value, str) else value


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
        columns[index] = _json(columns[index])
    return ProposalPage(*columns)


@dataclass(frozen=True, slots=True)
class CastBox:
    """The connection a ballot is cast on, under the vote's shared cast lock, and whether the
    transaction is its own (committed when `AssemblyRepository.casting` ends) or the request's session's."""

    connection: Any  # asyncpg.Connection
    own_transaction: bool

    async def facts(self, proposal_id: uuid.UUID, voter_id: uuid.UUID, caster_id: uuid.UUID) -> Any:
        """State of the vote and of the voter, in one round trip (under the cast lock)."""
        row = await self.connection.fetchrow(_RAW_FACTS, proposal_id, voter_id, caster_id)
        if row is None:
            return None
        facts = dict(row)
        facts["rules"] = _json(facts["rules"])
        return facts

    async def write(self, **v: Any) -> tuple[datetime, int] | None:
        """Register row + audit event in one statement; None when the rules of `_WRITE_BALLOT` keep
        the standing ballot."""
        row = await self.connection.fetchrow(
            _RAW_WRITE,
            v["proposal"],
            v["voter"],
            v["channel"],
            v["cast_by"],
            v["ballot"],
            v["seal"],
            v["correction"],
            v["uid"],
            v["at"],
            v["kind"],
            v["caster"],
            v["assembly"],
            msgspec.json.encode(v["data"]).decode(),
            v["digest"],
        )
        return None if row is None else (row[0], int(row[1]))


class AssemblyRepository:
    def __init__(self, session: AsyncSession, database: Database | None = None) -> None:
        self.session = session
        # The request's database, for the hot paths that skip the ORM (`proposal_page`, `casting`)
        # while the session has begun nothing; None outside HTTP requests (CLI, background loops).
        self.database = database

    def _unit_untouched(self) -> bool:
        """True while the request's session has begun nothing and holds no change: a read or a
        transaction outside it then sees exactly what one inside it would."""
        session = self.session
        return not (session.in_transaction() or session.new or session.dirty or session.deleted)

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # -- statutes, colleges, contribution rate ------------------------------------------------------

    async def latest_statutes(self) -> StatuteVersion | None:
        return await self.session.scalar(select(StatuteVersion).order_by(StatuteVersion.id.desc()).limit(1))  # type: ignore[union-attr]

    async def any_vote_in_progress(self) -> bool:
        """An assembly convened or open, or a vote open: the statutes in force must not move under it."""
        assemblies = select(Assembly.id).where(Assembly.state.in_(("convened", "open")))  # type: ignore[attr-defined]
        proposals = select(Proposal.id).where(Proposal.state == "open")
        return bool(await self.session.scalar(select(assemblies.exists() | proposals.exists())))

    async def any_vote_closed(self) -> bool:
        return bool(await self.session.scalar(select(func.count()).where(Proposal.state == "closed")))

    async def contribution_rate(self) -> int | None:
        return await self.session.scalar(
            select(ContributionRate.basis_points).order_by(ContributionRate.id.desc()).limit(1)  # type: ignore[union-attr]
        )

    async def college_of(self, account_id: uuid.UUID) -> str | None:
        return await self.session.scalar(
            select(CollegeMembership.college).where(CollegeMembership.account_id == account_id)
        )

    async def set_college(
        self, account_id: uuid.UUID, college: str | None, by: uuid.UUID | None, proposal_id: uuid.UUID | None
    ) -> None:
        if college is None:
            await self.session.execute(delete(CollegeMembership).where(CollegeMembership.account_id == account_id))
            return
        statement = pg_insert(CollegeMembership).values(
            account_id=account_id, college=college, assigned_by=by, proposal_id=proposal_id
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[CollegeMembership.account_id],
                set_={"college": college, "assigned_by": by, "proposal_id": proposal_id, "assigned_at": func.now()},
            )
        )

    async def get_account(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def lock_account(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.id == account_id).with_for_update())

    async def eligible_voters(
        self, *, default_college: str | None, with_colleges: bool
    ) -> list[tuple[uuid.UUID, str | None]]:
        """Admitted members, and anyone the cooperative admitted to a college (SCIC clients, say)."""
        college = func.coalesce(CollegeMembership.college, default_college) if with_colleges else None
        rows = await self.session.execute(
            select(Account.id, college if college is not None else text("null"))
            .outerjoin(CollegeMembership, CollegeMembership.account_id == Account.id)
            .where(
                Account.disabled_at.is_(None),  # type: ignore[union-attr]
                ((Account.role == Role.MEMBER) & (Account.member_status == MemberStatus.MEMBER))
                | CollegeMembership.account_id.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(Account.id)
        )
        return [(row[0], row[1]) for row in rows]

    async def is_participant(self, account_id: uuid.UUID) -> bool:
        """Whether someone takes part in governance: an admitted member or a college member."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(Account)
            .outerjoin(CollegeMembership, CollegeMembership.account_id == Account.id)
            .where(
                Account.id == account_id,
                ((Account.role == Role.MEMBER) & (Account.member_status == MemberStatus.MEMBER))
                | CollegeMembership.account_id.is_not(None),  # type: ignore[union-attr]
            )
        )
        return bool(found)

    # -- electorates ------------------------------------------------------------------------------------

    async def create_electorate(self, voters: Sequence[tuple[uuid.UUID, str | None]], roll_sha256: str) -> Electorate:
        electorate = Electorate(size=len(voters), roll_sha256=roll_sha256)
        await self.add(electorate)
        if voters:
            await self.session.execute(
                text(
                    "insert into electorate_member (electorate_id, account_id, college) "
                    "select :electorate, unnest(cast(:ids as uuid[])), unnest(cast(:colleges as varchar[]))"
                ),
                {"electorate": electorate.id, "ids": [v[0] for v in voters], "colleges": [v[1] for v in voters]},
            )
        return electorate

    async def get_electorate(self, electorate_id: uuid.UUID | None) -> Electorate | None:
        return None if electorate_id is None else await self.session.get(Electorate, electorate_id)

    async def roll(self, electorate_id: uuid.UUID) -> list[tuple[uuid.UUID, str | None]]:
        rows = await self.session.execute(
            select(ElectorateMember.account_id, ElectorateMember.college)
            .where(ElectorateMember.electorate_id == electorate_id)
            .order_by(ElectorateMember.account_id)
        )
        return [(row[0], row[1]) for row in rows]

    async def roll_with_names(self, electorate_id: uuid.UUID) -> list[tuple[uuid.UUID, str | None, str, str]]:
        rows = await self.session.execute(
            select(ElectorateMember.account_id, ElectorateMember.college, Account.display_name, Account.email)
            .join(Account, Account.id == ElectorateMember.account_id)
            .where(ElectorateMember.electorate_id == electorate_id)
            .order_by(Account.display_name, Account.id)
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def in_electorate(self, electorate_id: uuid.UUID | None, account_id: uuid.UUID) -> bool:
        if electorate_id is None:
            return False
        return bool(
            await self.session.scalar(
                select(func.count()).where(
                    ElectorateMember.electorate_id == electorate_id, ElectorateMember.account_id == account_id
                )
            )
        )

    # -- assemblies -----------------------------------------------------------------------------------------

    async def get_assembly(self, assembly_id: uuid.UUID, *, lock: bool = False) -> Assembly | None:
        query = select(Assembly).where(Assembly.id == assembly_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def list_assemblies(self, *, limit: int, offset: int) -> tuple[Sequence[Assembly], int]:
        rows = await self.session.scalars(
            select(Assembly).order_by(Assembly.scheduled_at.desc(), Assembly.id).limit(limit).offset(offset)  # type: ignore[attr-defined]
        )
        total = await self.session.scalar(select(func.count()).select_from(Assembly))
        return rows.all(), int(total or 0)

    async def agenda(self, assembly_id: uuid.UUID, *, lock: bool = False, fresh: bool = False) -> Sequence[Proposal]:
        query = (
            select(Proposal)
            .where(Proposal.assembly_id == assembly_id)
            .order_by(Proposal.agenda_position, Proposal.created_at)
        )
        if lock:
            query = query.with_for_update()
        if lock or fresh:
            query = query.execution_options(populate_existing=True)
        return (await self.session.scalars(query)).all()

    async def agenda_ids(self, assembly_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        out: dict[uuid.UUID, list[uuid.UUID]] = {a: [] for a in assembly_ids}
        if not assembly_ids:
            return out
        rows = await self.session.execute(
            select(Proposal.assembly_id, Proposal.id)
            .where(Proposal.assembly_id.in_(assembly_ids))  # type: ignore[union-attr]
            .order_by(Proposal.agenda_position, Proposal.created_at)
        )
        for assembly_id, proposal_id in rows:
            out[assembly_id].append(proposal_id)
        return out

    async def next_planned_assembly(self) -> Assembly | None:
        return await self.session.scalar(
            select(Assembly)
            .where(Assembly.state == "planned", Assembly.scheduled_at > func.now())
            .order_by(Assembly.scheduled_at)
            .limit(1)
            .with_for_update()
        )

    async def qualified_initiatives(self) -> Sequence[Proposal]:
        return (
            await self.session.scalars(
                select(Proposal)
                .where(Proposal.state == "qualified", Proposal.assembly_id.is_(None))  # type: ignore[union-attr]
                .order_by(Proposal.qualified_at)
                .with_for_update()
            )
        ).all()

    async def second_call_of(self, assembly_id: uuid.UUID) -> bool:
        found = await self.session.scalar(select(func.count()).where(Assembly.first_call_id == assembly_id))
        return bool(found)

    async def next_agenda_position(self, assembly_id: uuid.UUID) -> int:
        found = await self.session.scalar(
            select(func.max(Proposal.agenda_position)).where(Proposal.assembly_id == assembly_id)
        )
        return int(found or 0) + 1

    async def due_assemblies(self) -> list[uuid.UUID]:
        """Convened assemblies whose online voting window has begun."""
        rows = await self.session.scalars(
            select(Assembly.id)
            .where(Assembly.state == "convened", Assembly.voting_opens_at <= func.now())  # type: ignore[operator]
            .limit(20)
        )
        return list(rows)

    # -- attendance -----------------------------------------------------------------------------------------

    async def record_attendance(
        self, assembly_id: uuid.UUID, account_id: uuid.UUID, present: bool, by: uuid.UUID
    ) -> None:
        statement = pg_insert(Attendance).values(
            assembly_id=assembly_id, account_id=account_id, present=present, recorded_by=by
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Attendance.assembly_id, Attendance.account_id],
                set_={"present": present, "recorded_by": by, "recorded_at": func.now()},
            )
        )

    async def present(self, assembly_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(Attendance.account_id).where(Attendance.assembly_id == assembly_id, Attendance.present)
        )
        return set(rows)

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

    # -- ballots: the hot path ----------------------------------------------------------------------------------

    async def lock_for_cast(self, proposal_id: uuid.UUID) -> None:
        await self.session.execute(
            text("select pg_advisory_xact_lock_shared(:ns, :key)"),
            {"ns": CAST_LOCKS, "key": lock_key(proposal_id)},
        )

    async def lock_for_close(self, proposal_id: uuid.UUID) -> None:
        await self.session.execute(
            text("select pg_advisory_xact_lock(:ns, :key)"), {"ns": CAST_LOCKS, "key": lock_key(proposal_id)}
        )

    _CAST_CONTEXT = text(
        """
        select p.state, p.closes_at <= now() as past_close, p.secret, p.election_public_key, p.rules,
               p.assembly_id, p.electorate_id,
               vm.account_id is not null as voter_eligible, vm.college as voter_college,
               cm.account_id is not null as caster_eligible,
               (select r.channel from ballot_register r
                 where r.proposal_id = p.id and r.voter_id = :voter) as existing_channel,
               (select x.holder_id from proxy x
                 where x.principal_id = :voter and x.revoked_at is null
                   and (x.proposal_id = p.id or (p.assembly_id is not null and x.assembly_id = p.assembly_id))
                 limit 1) as holder_id,
               now() as now
          from proposal p
          left join electorate_member vm on vm.electorate_id = p.electorate_id and vm.account_id = :voter
          left join electorate_member cm on cm.electorate_id = p.electorate_id and cm.account_id = :caster
         where p.id = :proposal
        """
    )

    @asynccontextmanager
    async def casting(self, proposal_id: uuid.UUID, *, own_transaction: bool) -> AsyncIterator[CastBox]:
        """The vote's shared cast lock, and the connection to read the ballot's facts and write it on.

        With `own_transaction` (a ballot that writes nothing else: online and proxy ballots) and while
        the request's session has begun nothing, the ballot is its request's one transaction on the
        raw asyncpg pool: BEGIN and the lock in one round trip, the facts, the write, COMMIT when the
        block ends (ROLLBACK if it raises); no ORM. Otherwise the lock is taken in the session's
        transaction, which the unit of work commits.
        """
        if own_transaction and self.database is not None and self._unit_untouched():
            # Both arguments are integers computed here: nothing from the request reaches the SQL text.
            lock = f"select pg_advisory_xact_lock_shared({CAST_LOCKS}, {lock_key(proposal_id)})"
            async with self.database.transaction(lock) as connection:
                yield CastBox(connection, own_transaction=True)
        else:
            await self.lock_for_cast(proposal_id)
            yield CastBox(await self._driver(), own_transaction=False)

    async def _driver(self) -> Any:
        """The asyncpg connection under the session's transaction: the ballot's hot path skips the ORM.

        Only used after a statement went through the session, so the transaction has begun.
        """
        connection = await self.session.connection()
        return (await connection.get_raw_connection()).driver_connection

    # Who may replace whose ballot is decided here, under the row's lock, so that no order of
    # concurrent requests changes the answer: a member's own ballot replaces anything; a proxy ballot
    # replaces only a proxy ballot (in person beats proxy); a paper ballot replaces a proxy ballot,
    # or an in-person one only as an explicit correction. `seq` and `cast_at` are drawn after the
    # lock, so the ballot with the highest `seq` is the last accepted and the one on the last receipt.
    _WRITE_BALLOT = text(
        """
        with reg as (
            insert into ballot_register (proposal_id, voter_id, channel, cast_by, cast_at, changes, ballot, seal)
            values (:proposal, :voter, :channel, :cast_by, clock_timestamp(), 0, :ballot, :seal)
            on conflict (proposal_id, voter_id) do update
               set channel = excluded.channel, cast_by = excluded.cast_by, cast_at = clock_timestamp(),
                   changes = ballot_register.changes + 1, ballot = excluded.ballot, seal = excluded.seal,
                   seq = nextval(pg_get_serial_sequence('ballot_register', 'seq'))
             where case excluded.channel
                     when 'online' then true
                     when 'proxy' then ballot_register.channel = 'proxy'
                     else ballot_register.channel = 'proxy' or :correction
                   end
            returning cast_at, seq
        ), event as (
            insert into audit_event (uid, at, kind, actor_id, assembly_id, proposal_id, data, digest)
            select :uid, :at, :kind, :caster, :assembly, :proposal, :data, :digest where exists (select 1 from reg)
            returning 1
        )
        select cast_at, seq, (select count(*) from event) as logged from reg
        """
    ).bindparams(bindparam("data", type_=JSONB))

    async def register(self, proposal_id: uuid.UUID) -> Sequence[BallotRegister]:
        return (
            await self.session.scalars(select(BallotRegister).where(BallotRegister.proposal_id == proposal_id))
        ).all()

    async def register_entry(self, proposal_id: uuid.UUID, voter_id: uuid.UUID) -> BallotRegister | None:
        return await self.session.get(BallotRegister, (proposal_id, voter_id))

    async def voted_for(self, proposal_id: uuid.UUID, holder_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(BallotRegister.voter_id).where(
                BallotRegister.proposal_id == proposal_id,
                BallotRegister.cast_by == holder_id,
                BallotRegister.channel == "proxy",
            )
        )
        return list(rows)

    async def participation(self, proposal_id: uuid.UUID) -> dict[str, int]:
        rows = await self.session.execute(
            select(BallotRegister.channel, func.count())
            .where(BallotRegister.proposal_id == proposal_id)
            .group_by(BallotRegister.channel)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def public_ballots(self, proposal_id: uuid.UUID) -> list[bytes]:
        """The plaintext ballots of a public vote (its running result); a secret vote has none."""
        rows = await self.session.execute(
            select(BallotRegister.ballot).where(
                BallotRegister.proposal_id == proposal_id,
                BallotRegister.ballot.is_not(None),  # type: ignore[union-attr]
            )
        )
        return [row[0] for row in rows]

    async def erase_ballots(self, proposal_id: uuid.UUID) -> None:
        """Once counted, ballot contents leave the register (who voted, and how, stays)."""
        await self.session.execute(
            update(BallotRegister).where(BallotRegister.proposal_id == proposal_id).values(ballot=None, seal=None)
        )
        await self.session.execute(delete(BallotKeyShare).where(BallotKeyShare.proposal_id == proposal_id))

    # -- election keys ---------------------------------------------------------------------------------------------

    async def trustee_keys(self, account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        rows = await self.session.execute(
            select(TrusteeKey.account_id, TrusteeKey.public_key).where(
                TrusteeKey.account_id.in_(account_ids)  # type: ignore[attr-defined]
            )
        )
        return {row[0]: row[1] for row in rows}

    async def set_trustee_key(self, account_id: uuid.UUID, public_key: bytes) -> None:
        await self.session.execute(
            pg_insert(TrusteeKey)
            .values(account_id=account_id, public_key=public_key)
            .on_conflict_do_update(
                index_elements=["account_id"], set_={"public_key": public_key, "created_at": func.now()}
            )
        )

    async def key_shares(self, proposal_id: uuid.UUID) -> Sequence[BallotKeyShare]:
        return (
            await self.session.scalars(
                select(BallotKeyShare).where(BallotKeyShare.proposal_id == proposal_id).order_by(BallotKeyShare.x)
            )
        ).all()

    async def key_share(self, proposal_id: uuid.UUID, trustee_id: uuid.UUID) -> BallotKeyShare | None:
        return await self.session.get(BallotKeyShare, (proposal_id, trustee_id))

    async def publish_box(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(PublishedBallot), rows)

    async def published_box(self, proposal_id: uuid.UUID) -> Sequence[PublishedBallot]:
        return (
            await self.session.scalars(
                select(PublishedBallot)
                .where(PublishedBallot.proposal_id == proposal_id)
                .order_by(PublishedBallot.position)
            )
        ).all()

    async def closed_proposals(self) -> Sequence[Proposal]:
        return (
            await self.session.scalars(select(Proposal).where(Proposal.state == "closed").order_by(Proposal.closed_at))
        ).all()

    # -- binding actions ----------------------------------------------------------------------------------------

    async def set_member_status(self, account_id: uuid.UUID, status: str) -> None:
        await self.session.execute(update(Account).where(Account.id == account_id).values(member_status=status))

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


def _positional(statement: str, names: list[str]) -> str:
    for index, name in enumerate(names, 1):
        statement = statement.replace(f":{name}", f"${index}")
    return statement


# Public for bench/api_bench.py, whose ceiling reads a proposal's page with the API's own statement.
PROPOSAL_PAGE_SQL = _positional(_PROPOSAL_PAGE.text, ["proposal", "viewer"])
_RAW_FACTS = _positional(AssemblyRepository._CAST_CONTEXT.text, ["proposal", "voter", "caster"])
_RAW_WRITE = _positional(
    AssemblyRepository._WRITE_BALLOT.text,
    [
        "proposal",
        "voter",
        "channel",
        "cast_by",
        "ballot",
        "seal",
        "correction",
        "uid",
        "at",
        "kind",
        "caster",
        "assembly",
        "data",
        "digest",
    ],
)
