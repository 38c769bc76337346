"""Dependencies of the accounts feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.accounts.oidc import OidcProviders
from app.accounts.service import AccountService
from app.core.errors import NotAuthenticated
from app.db.transaction import UnitOfWork
from app.models import Account
from app.settings import Settings


async def provide_account_service(unit_of_work: NamedDependency[UnitOfWork], state: State) -> AccountService:
    return AccountService(
        unit_of_work,
        settings=state.settings,
        passwords=state.passwords,
        signing_keys=state.signing_keys,
        mailer=state.mailer,
        oidc=state.oidc_providers,
        limits=state.auth_limits,
    )


async def provide_current_account(request: Request) -> Account:
    account = request.scope.get("user")
    if account is None:
        raise NotAuthenticated()
    return account


async def provide_client_address(request: Request, state: State) -> str:
    """The caller's address as rate limits key it (trusted proxies honoured)."""
    return state.auth_limits.address(request)


async def provide_oidc_providers(state: State) -> OidcProviders:
    return state.oidc_providers


async def provide_settings(state: State) -> Settings:
    return state.settings


dependencies = {
    "accounts": Provide(provide_account_service),
    "current_account": Provide(provide_current_account),
    "oidc_providers": Provide(provide_oidc_providers),
    "client_address": Provide(provide_client_address),
    "settings": Provide(provide_settings),
}
