"""Statutes, colleges, the contribution rate and electorates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.assemblies.repository.base import RepositoryBase
from app.models import (
    Account,
    Assembly,
    CollegeMembership,
    ContributionRate,
    Electorate,
    ElectorateMember,
    MemberStatus,
    Proposal,
    Role,
    StatuteVersion,
)


class StatutesQueries(RepositoryBase):
    """Statutes, colleges, the contribution rate; the electorates frozen at opening."""

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
