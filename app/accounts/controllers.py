"""HTTP surface of the accounts feature: /api/v1/auth/*, /api/v1/me, /api/v1/accounts, /api/v1/organisations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import CookieParameter, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from app.accounts.guards import admin_only, signed_in
from app.accounts.oidc import OidcProviders
from app.accounts.schemas import (
    Accepted,
    AccountOut,
    EmailInput,
    MemberStatusInput,
    OidcProviderOut,
    OidcStart,
    OrganisationOut,
    ProfileUpdateInput,
    RefreshInput,
    RegisterInput,
    ResetPasswordInput,
    SignInInput,
    TokenInput,
    TokenPair,
)
from app.accounts.service import AccountService, IssuedTokens, NewOrganisation
from app.core.problems import problems
from app.core.rate_limit import OWN_LIMITS
from app.core.request_checks import ALLOW_UNKNOWN_QUERY
from app.core.schemas import SINGLE_LINE, Limit, Offset, Page
from app.models import Account, ClientOrganisation, MemberStatus, Role
from app.settings import Settings

URLSAFE = r"^[A-Za-z0-9_-]+$"  # what secrets.token_urlsafe produces (the OIDC state)
OIDC_BINDING_COOKIE = "coop_oidc_binding"
# Routes anyone may call: a stale or broken Authorization header a client keeps sending must not
# stop it from refreshing or signing in again.
PUBLIC = {"exclude_from_auth": True}


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        role=account.role,
        member_status=account.member_status,
        email_verified=account.email_verified_at is not None,
        client_organisation_id=account.client_organisation_id,
        created_at=account.created_at,
    )


def organisation_out(organisation: ClientOrganisation) -> OrganisationOut:
    return OrganisationOut(
        id=organisation.id,
        legal_name=organisation.legal_name,
        registration_number=organisation.registration_number,
        billing_address=organisation.billing_address,
        country=organisation.country,
        siren=organisation.siren,
        verified=organisation.verified_at is not None,
        verified_at=organisation.verified_at,
    )


def token_pair(tokens: IssuedTokens) -> TokenPair:
    return TokenPair(access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)


class AuthController(Controller):
    """Registration and sign-in. Rate limited per client address, sign-in per account too (docs/security.md)."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        opt=PUBLIC,
        summary="Register as a member (applicant) or as a client acting for an organisation",
        responses=problems(400, 401, 409, 413, 422, 429),
    )
    async def register(self, data: JSONBody[RegisterInput], accounts: NamedDependency[AccountService]) -> AccountOut:
        organisation = (
            NewOrganisation(
                legal_name=data.organisation.legal_name,
                registration_number=data.organisation.registration_number,
                billing_address=data.organisation.billing_address,
                country=data.organisation.country,
            )
            if data.organisation
            else None
        )
        account = await accounts.register(
            email=data.email,
            password=data.password,
            display_name=data.display_name,
            role=Role(data.role),
            organisation=organisation,
        )
        return account_out(account)

    @post(
        "/sign-in",
        opt={**PUBLIC, OWN_LIMITS: True},
        status_code=HTTP_200_OK,
        summary="Exchange email and password for an access token and a refresh token",
        responses=problems(400, 401, 413, 429),
    )
    async def sign_in(
        self,
        data: JSONBody[SignInInput],
        accounts: NamedDependency[AccountService],
        client_address: NamedDependency[str],
    ) -> TokenPair:
        return token_pair(await accounts.sign_in(email=data.email, password=data.password, address=client_address))

    @post(
        "/refresh",
        opt={**PUBLIC, OWN_LIMITS: True},
        status_code=HTTP_200_OK,
        summary="Rotate a refresh token; reusing an old one ends the whole session",
        responses=problems(400, 401, 413, 429),
    )
    async def refresh(self, data: JSONBody[RefreshInput], accounts: NamedDependency[AccountService]) -> TokenPair:
        return token_pair(await accounts.refresh(data.refresh_token))

    @post(
        "/sign-out",
        status_code=HTTP_204_NO_CONTENT,
        guards=[signed_in],
        opt={OWN_LIMITS: True},  # never limited: ending a session must always work
        summary="End the current session (its access and refresh tokens stop working); never rate limited",
        responses=problems(401),
    )
    async def sign_out(self, request: Request[Account, Any, State], accounts: NamedDependency[AccountService]) -> None:
        await accounts.sign_out(request.auth.session_id)

    @post(
        "/verify-email/request",
        status_code=HTTP_202_ACCEPTED,
        guards=[signed_in],
        summary="Mail a new verification link to the signed-in account's address",
        responses=problems(401, 429),
    )
    async def request_verification(
        self, current_account: NamedDependency[Account], accounts: NamedDependency[AccountService]
    ) -> Accepted:
        await accounts.request_email_verification(current_account.id)
        return Accepted(detail="If the address is not verified yet, a link is on its way.")

    @post(
        "/verify-email",
        opt=PUBLIC,
        status_code=HTTP_200_OK,
        summary="Confirm an email address with the mailed single-use token",
        responses=problems(400, 401, 413, 429),
    )
    async def verify_email(self, data: JSONBody[TokenInput], accounts: NamedDependency[AccountService]) -> AccountOut:
        return account_out(await accounts.verify_email(data.token))

    @post(
        "/password-reset/request",
        opt=PUBLIC,
        status_code=HTTP_202_ACCEPTED,
        summary="Mail a password-reset link; the answer is the same whether the address exists or not",
        responses=problems(400, 401, 413, 429),
    )
    async def request_password_reset(
        self, data: JSONBody[EmailInput], accounts: NamedDependency[AccountService]
    ) -> Accepted:
        await accounts.request_password_reset(data.email)
        return Accepted(detail="If an account uses this address, a reset link is on its way.")

    @post(
        "/password-reset",
        opt=PUBLIC,
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a new password with the mailed single-use token; every session is ended",
        responses=problems(400, 401, 413, 422, 429),
    )
    async def reset_password(
        self, data: JSONBody[ResetPasswordInput], accounts: NamedDependency[AccountService]
    ) -> None:
        await accounts.reset_password(data.token, data.new_password)

    @get("/oidc", summary="The OpenID Connect providers members can sign in with", responses=problems(429), opt=PUBLIC)
    async def list_providers(self, oidc_providers: NamedDependency[OidcProviders]) -> list[OidcProviderOut]:
        return [
            OidcProviderOut(
                name=provider.name,
                issuer=provider.issuer,
                start_url=f"/api/v1/auth/oidc/{provider.name}/start",
            )
            for provider in oidc_providers.configured
        ]

    @get(
        "/oidc/{provider:str}/start",
        opt=PUBLIC,
        summary="Start signing in with an OpenID Connect provider (authorization code + PKCE)",
        description="Answers with the provider's authorization URL; `?redirect=true` answers with a 302 to it.",
        responses=problems(400, 401, 404, 429, 502),
    )
    async def oidc_start(
        self,
        provider: FromPath[str],
        accounts: NamedDependency[AccountService],
        settings: NamedDependency[Settings],
        redirect: FromQuery[bool] = False,
    ) -> Response[OidcStart] | Redirect:
        url, state, browser_binding = await accounts.start_oidc(provider)
        cookie = Cookie(
            key=OIDC_BINDING_COOKIE,
            value=browser_binding,
            path="/api/v1/auth/oidc",
            max_age=600,
            httponly=True,
            samesite="lax",
            secure=settings.public_base_url.startswith("https://"),
        )
        if redirect:
            return Redirect(path=url, status_code=302, cookies=[cookie])
        return Response(OidcStart(authorization_url=url, state=state), cookies=[cookie])

    @get(
        "/oidc/{provider:str}/callback",
        summary="Finish signing in with an OpenID Connect provider; answers with tokens",
        description="Must come from the browser that called `start` (it carries the binding cookie set there).",
        responses=problems(400, 401, 404, 409, 429, 502),
        # Providers add parameters of their own to the redirect (`iss`, `session_state`...).
        opt={**PUBLIC, ALLOW_UNKNOWN_QUERY: True},
    )
    async def oidc_callback(
        self,
        provider: FromPath[str],
        accounts: NamedDependency[AccountService],
        oidc_state: Annotated[str, QueryParameter(name="state", min_length=16, max_length=64, pattern=URLSAFE)],
        code: Annotated[str | None, QueryParameter(max_length=2048, pattern=SINGLE_LINE)] = None,
        error: Annotated[str | None, QueryParameter(max_length=200, pattern=SINGLE_LINE)] = None,
        browser_binding: Annotated[
            str | None, CookieParameter(name=OIDC_BINDING_COOKIE, max_length=64, pattern=URLSAFE)
        ] = None,
    ) -> TokenPair:
        tokens = await accounts.finish_oidc(
            provider=provider, state=oidc_state, code=code, error=error, browser_binding=browser_binding
        )
        return token_pair(tokens)


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]
    guards = [signed_in]

    @get(summary="The signed-in account", responses=problems(401))
    async def me(self, current_account: NamedDependency[Account]) -> AccountOut:
        return account_out(current_account)

    @patch(summary="Change the signed-in account's display name", responses=problems(400, 401, 413))
    async def update_me(
        self,
        data: JSONBody[ProfileUpdateInput],
        current_account: NamedDependency[Account],
        accounts: NamedDependency[AccountService],
    ) -> AccountOut:
        return account_out(await accounts.update_display_name(current_account.id, data.display_name))


class AccountsController(Controller):
    path = "/api/v1/accounts"
    tags = ["accounts"]
    guards = [signed_in]

    @get(guards=[admin_only], summary="List accounts (administrators)", responses=problems(400, 401, 403))
    async def list_accounts(
        self,
        accounts: NamedDependency[AccountService],
        role: FromQuery[Role | None] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[AccountOut]:
        rows, total = await accounts.list_accounts(role=role, limit=limit, offset=offset)
        return Page(items=[account_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get(
        "/{account_id:uuid}",
        summary="One account: your own, or any for administrators",
        responses=problems(400, 401, 404),
    )
    async def get_account(
        self,
        account_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        accounts: NamedDependency[AccountService],
    ) -> AccountOut:
        return account_out(await accounts.get_visible_account(current_account, account_id))

    @patch(
        "/{account_id:uuid}/member-status",
        guards=[admin_only],
        summary="Admit a member, or record their departure (administrators)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def set_member_status(
        self,
        account_id: FromPath[uuid.UUID],
        data: JSONBody[MemberStatusInput],
        accounts: NamedDependency[AccountService],
    ) -> AccountOut:
        return account_out(await accounts.set_member_status(account_id, MemberStatus(data.status)))


class OrganisationsController(Controller):
    path = "/api/v1/organisations"
    tags = ["accounts"]
    guards = [signed_in]

    @get(
        "/{organisation_id:uuid}",
        summary="A client organisation: visible to the people acting for it and to administrators",
        responses=problems(400, 401, 404),
    )
    async def get_organisation(
        self,
        organisation_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        accounts: NamedDependency[AccountService],
    ) -> OrganisationOut:
        return organisation_out(await accounts.get_visible_organisation(current_account, organisation_id))

    @post(
        "/{organisation_id:uuid}/verify",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Record that an administrator checked the organisation (administrators): its missions go public",
        description="Until then a client's public missions are listed to admitted members only.",
        responses=problems(400, 401, 403, 404),
    )
    async def verify_organisation(
        self,
        organisation_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        accounts: NamedDependency[AccountService],
    ) -> OrganisationOut:
        return organisation_out(await accounts.verify_organisation(current_account, organisation_id))
