"""Dependencies of the vault feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.members.service import MemberService
from app.vault.consent import ConsentService
from app.vault.erasure import ErasureService
from app.vault.service import VaultService


async def provide_vault_service(
    unit_of_work: NamedDependency[UnitOfWork],
    state: State,
    # The accounts service, seen through `AccountsPort`: importing its module would bring Authlib along.
    accounts: NamedDependency[Any],
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


async def provide_consent_service(
    unit_of_work: NamedDependency[UnitOfWork], state: State, members: NamedDependency[MemberService]
) -> ConsentService:
    return ConsentService(unit_of_work, signer=state.vault_signer, members=members, master_keys=state.vault_master_keys)


async def provide_erasure_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> ErasureService:
    return ErasureService(unit_of_work, signer=state.vault_signer, passwords=state.passwords)


dependencies = {
    "erasure": Provide(provide_erasure_service),
    "vault": Provide(provide_vault_service),
    "consent": Provide(provide_consent_service),
}
