"""Dependencies of the vault feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.accounts.service import AccountService
from app.db.transaction import UnitOfWork
from app.members.service import MemberService
from app.vault.service import VaultService


async def provide_vault_service(
    unit_of_work: NamedDependency[UnitOfWork],
    state: State,
    accounts: NamedDependency[AccountService],
    members: NamedDependency[MemberService],
) -> VaultService:
    return VaultService(
        unit_of_work,
        database=state.database,
        settings=state.settings,
        signer=state.vault_signer,
        master_keys=state.vault_master_keys,
        accounts=accounts,
        members=members,
    )


dependencies = {"vault": Provide(provide_vault_service)}
