"""The ballot's hot path, election keys and binding actions."""

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

from app.assemblies.repository.base import CAST_LOCKS, RepositoryBase, json_column, lock_key, positional_sql
from app.models import (
    Account,
    BallotKeyShare,
    BallotRegister,
    Proposal,
    PublishedBallot,
    TrusteeKey,
)


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
        facts["rules"] = json_column(facts["rules"])
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


class BallotQueries(RepositoryBase):
    """Casting (the hot path, raw asyncpg under the cast lock), the register, election keys, binding actions."""

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


_RAW_FACTS = positional_sql(BallotQueries._CAST_CONTEXT.text, ["proposal", "voter", "caster"])
_RAW_WRITE = positional_sql(
    BallotQueries._WRITE_BALLOT.text,
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
