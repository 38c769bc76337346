"""Account pages: sign up, sign in and out, the mailed links (verify, reset), settings, sessions.

Every decision is `AccountService`'s; this module turns forms into its calls and its sessions into
the browser's cookie.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import signed_in
from app.accounts.oidc import OidcProviders
from app.accounts.service import AccountService, IssuedTokens, NewOrganisation
from app.core.errors import AppError, InvalidCredentials
from app.core.rate_limit import OWN_LIMITS, RateLimited
from app.models import Account, Role
from app.settings import Settings
from app.web.forms import clean, form_data, query_text
from app.web.i18n import LOCALE_COOKIE, LOCALES, gettext
from app.web.rendering import FormRejected, field_errors, page, redirect, safe_next
from app.web.session_cookie import COOKIE_NAME, CookieSession, SessionCookies


def session_cookie(settings: Settings, value: str, expires_at: datetime | None) -> Cookie:
    max_age = int((expires_at - datetime.now(UTC)).total_seconds()) if expires_at else 0
    return Cookie(
        key=COOKIE_NAME,
        value=value,
        max_age=max(max_age, 0),
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )


# The browser-binding secret of a sign-in started on the web (the API's flow has its own cookie).
OIDC_BINDING_COOKIE = "coop_web_oidc_binding"

# Problems that are about one field, though the service raises them without naming it.
_FIELD_OF = {"weak-password": "password", "email-taken": "email"}


def _rejected(template: str, error: AppError, values: dict[str, str], **context: object) -> FormRejected:
    summary, errors = field_errors(error)
    if error.slug in _FIELD_OF and _FIELD_OF[error.slug] not in errors:
        errors = {_FIELD_OF[error.slug]: summary, **errors}
    values = {key: value for key, value in values.items() if "password" not in key}
    return FormRejected(
        template,
        context={"values": values, **context},
        errors=errors,
        summary=summary,
        status=error.status_code,
        headers=dict(error.headers or {}),
    )


def _signed_in(state: State, settings: Settings, tokens: IssuedTokens, expires_at: datetime, target: str) -> Redirect:
    """The browser's cookie for the session `AccountService` just opened (the same row as an API sign-in)."""
    claims = state.signing_keys.verify(tokens.access_token)
    cookies: SessionCookies = state.web_cookies
    value = cookies.encode(CookieSession(claims.account_id, claims.session_id, expires_at))
    response = redirect(target, "signed-in")
    response.cookies.append(session_cookie(settings, value, expires_at))
    return response


class AuthPages(Controller):
    """Pages whose forms the API's auth rate limit covers (the web router applies it to their POSTs)."""

    path = "/"
    include_in_schema = False

    # sign up

    @get("/sign-up")
    async def sign_up_form(self, request: Request) -> Template:
        return page(request, "accounts/sign_up.html", values={"role": "member"})

    @post("/sign-up")
    async def sign_up(self, request: Request, accounts: NamedDependency[AccountService]) -> Redirect:
        values, _ = await form_data(request)
        role = Role.CLIENT if values.get("role") == "client" else Role.MEMBER
        organisation = None
        if role is Role.CLIENT:
            organisation = NewOrganisation(
                legal_name=values.get("legal_name", "").strip()[:200],
                registration_number=values.get("registration_number", "").strip()[:64],
                billing_address=values.get("billing_address", "").strip()[:500],
            )
            missing = {
                name: gettext("Fill in this field.")
                for name in ("legal_name", "registration_number", "billing_address")
                if not values.get(name, "").strip()
            }
            if missing:
                raise FormRejected("accounts/sign_up.html", context={"values": values}, errors=missing)
        display_name = values.get("display_name", "").strip()
        if not 1 <= len(display_name) <= 120:
            raise FormRejected(
                "accounts/sign_up.html",
                context={"values": values},
                errors={"display_name": gettext("Give a name of 1 to 120 characters.")},
            )
        try:
            await accounts.register(
                email=values.get("email", ""),
                password=values.get("password", ""),
                display_name=display_name,
                role=role,
                organisation=organisation,
            )
        except AppError as error:
            raise _rejected("accounts/sign_up.html", error, values) from error
        return redirect("/sign-in", "registered")

    # sign in and out

    @get("/sign-in")
    async def sign_in_form(self, request: Request, oidc_providers: NamedDependency[OidcProviders]) -> Template:
        return page(
            request,
            "accounts/sign_in.html",
            next=safe_next(request.query_params.get("next")),
            providers=[provider.name for provider in oidc_providers.configured],
        )

    # The API's own sign-in limits (per account and per address failures, `AuthLimits`), not the
    # per-address request ceiling: same store and keys, so a browser and a script share one budget.
    @post("/sign-in", opt={OWN_LIMITS: True})
    async def sign_in(
        self,
        request: Request,
        accounts: NamedDependency[AccountService],
        state: State,
        settings: NamedDependency[Settings],
        oidc_providers: NamedDependency[OidcProviders],
        client_address: NamedDependency[str],
    ) -> Redirect:
        values, _ = await form_data(request)
        target = safe_next(values.get("next"))
        # The cookie never outlives the session: its expiry is taken before the session opens.
        expires_at = datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds)
        try:
            tokens = await accounts.sign_in(
                email=values.get("email", ""), password=values.get("password", ""), address=client_address
            )
        except (InvalidCredentials, RateLimited) as error:
            providers = [provider.name for provider in oidc_providers.configured]
            raise _rejected("accounts/sign_in.html", error, values, next=target, providers=providers) from error
        return _signed_in(state, settings, tokens, expires_at, target)

    @get("/sign-in/oidc/{provider:str}")
    async def oidc_start(
        self, provider: FromPath[str], accounts: NamedDependency[AccountService], settings: NamedDependency[Settings]
    ) -> Redirect:
        url, _, browser_binding = await accounts.start_oidc(provider[:32], web=True)
        response = Redirect(path=url, status_code=302)
        response.cookies.append(
            Cookie(
                key=OIDC_BINDING_COOKIE,
                value=browser_binding,
                path="/sign-in/oidc",
                max_age=600,
                httponly=True,
                samesite="lax",
                secure=settings.public_base_url.startswith("https://"),
            )
        )
        return response

    @get("/sign-in/oidc/{provider:str}/callback")
    async def oidc_callback(
        self,
        request: Request,
        provider: FromPath[str],
        accounts: NamedDependency[AccountService],
        state: State,
        settings: NamedDependency[Settings],
    ) -> Redirect:
        """The provider sends the browser back here; the same checks as the API's callback, then a cookie."""
        expires_at = datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds)
        tokens = await accounts.finish_oidc(
            provider=provider[:32],
            state=query_text(request, "state", 64),
            code=query_text(request, "code", 2048) or None,
            error=query_text(request, "error", 200) or None,
            browser_binding=clean(request.cookies.get(OIDC_BINDING_COOKIE), 64) or None,
        )
        response = _signed_in(state, settings, tokens, expires_at, "/dashboard")
        response.cookies.append(Cookie(key=OIDC_BINDING_COOKIE, value="", max_age=0, path="/sign-in/oidc"))
        return response

    # the mailed links

    @get("/verify-email")
    async def verify_email_page(self, request: Request) -> Template:
        """Opening the link does not spend the token (mail scanners open links): the button does."""
        return page(request, "accounts/verify_email.html", token=query_text(request, "token"))

    @post("/verify-email")
    async def verify_email(self, request: Request, accounts: NamedDependency[AccountService]) -> Redirect:
        values, _ = await form_data(request)
        try:
            await accounts.verify_email(values.get("token", ""))
        except AppError as error:
            raise _rejected("accounts/verify_email.html", error, values, token="") from error
        return redirect("/dashboard" if request.scope.get("user") else "/sign-in", "verified")

    @post("/verify-email/request", guards=[signed_in])
    async def request_verification(
        self, request: Request, current_account: NamedDependency[Account], accounts: NamedDependency[AccountService]
    ) -> Redirect:
        await accounts.request_email_verification(current_account.id)
        return redirect("/account", "verification-sent")

    @get("/forgot-password")
    async def forgot_password_form(self, request: Request) -> Template:
        return page(request, "accounts/forgot_password.html")

    @post("/forgot-password")
    async def forgot_password(self, request: Request, accounts: NamedDependency[AccountService]) -> Redirect:
        values, _ = await form_data(request)
        await accounts.request_password_reset(values.get("email", ""))
        return redirect("/sign-in", "reset-requested")

    @get("/reset-password")
    async def reset_password_form(self, request: Request) -> Template:
        return page(request, "accounts/reset_password.html", token=query_text(request, "token"))

    @post("/reset-password")
    async def reset_password(
        self, request: Request, accounts: NamedDependency[AccountService], settings: NamedDependency[Settings]
    ) -> Redirect:
        values, _ = await form_data(request)
        token = values.get("token", "")
        try:
            await accounts.reset_password(token, values.get("password", ""))
        except AppError as error:
            raise _rejected("accounts/reset_password.html", error, values, token=token) from error
        response = redirect("/sign-in", "password-reset")
        response.cookies.append(session_cookie(settings, "", None))
        return response


class AccountPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request) -> Template:
        return page(request, "home.html")

    @get("/language/{code:str}")
    async def language(self, request: Request, code: FromPath[str]) -> Redirect:
        """A plain link, so the switch works without a script; it only sets a preference cookie."""
        response = Redirect(path=safe_next(request.query_params.get("next"), "/"), status_code=303)
        if code in LOCALES:
            response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response

    @post("/sign-out")
    async def sign_out(
        self, request: Request, accounts: NamedDependency[AccountService], settings: NamedDependency[Settings]
    ) -> Redirect:
        session = request.scope.get("auth")
        if isinstance(session, CookieSession):
            await accounts.sign_out(session.session_id)
        response = redirect("/", "signed-out")
        response.cookies.append(session_cookie(settings, "", None))
        return response

    # settings and sessions

    @get("/account", guards=[signed_in])
    async def settings_page(self, request: Request, current_account: NamedDependency[Account]) -> Template:
        return page(request, "accounts/settings.html", values={"display_name": current_account.display_name})

    @post("/account", guards=[signed_in])
    async def save_settings(
        self, request: Request, current_account: NamedDependency[Account], accounts: NamedDependency[AccountService]
    ) -> Redirect:
        values, _ = await form_data(request)
        display_name = values.get("display_name", "").strip()
        if not 1 <= len(display_name) <= 120:
            raise FormRejected(
                "accounts/settings.html",
                context={"values": values},
                errors={"display_name": gettext("Give a name of 1 to 120 characters.")},
            )
        await accounts.update_display_name(current_account.id, display_name)
        return redirect("/account", "saved")

    @get("/account/sessions", guards=[signed_in])
    async def sessions_page(
        self, request: Request, current_account: NamedDependency[Account], accounts: NamedDependency[AccountService]
    ) -> Template:
        current = request.scope.get("auth")
        return page(
            request,
            "accounts/sessions.html",
            sessions=await accounts.active_sessions(current_account.id),
            current_id=current.session_id if isinstance(current, CookieSession) else None,
        )

    @post("/account/sessions/{session_id:uuid}/end", guards=[signed_in])
    async def end_session(
        self,
        request: Request,
        session_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        accounts: NamedDependency[AccountService],
    ) -> Redirect:
        await accounts.end_session(current_account, session_id)
        current = request.scope.get("auth")
        if isinstance(current, CookieSession) and current.session_id == session_id:
            return redirect("/", "signed-out")
        return redirect("/account/sessions", "session-ended")
