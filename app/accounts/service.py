"""Rules of the accounts feature: registration, sign-in, token rotation, verification, reset, roles.

Nothing here knows about HTTP; the controllers translate. Nothing here commits; the request does.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stdnum.fr import siren, siret

from app.accounts.addresses import email_skeleton, normalise_email
from app.accounts.oidc import OidcProviders, VerifiedIdentity
from app.accounts.passwords import Passwords
from app.accounts.repository import AccountRepository
from app.accounts.tokens import AccessClaims, SigningKeys, hash_opaque_token, new_opaque_token
from app.core.errors import (
    Conflict,
    EmailLookalike,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    NotFound,
    RefreshTokenReused,
)
from app.core.mail import Mail, Mailer
from app.core.rate_limit import AuthLimits
from app.db.transaction import UnitOfWork
from app.models import (
    Account,
    AuthSession,
    ClientOrganisation,
    EmailToken,
    EmailTokenPurpose,
    MemberStatus,
    OidcIdentity,
    RefreshToken,
    Role,
)
from app.settings import Settings


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class NewOrganisation:
    legal_name: str
    registration_number: str
    billing_address: str
    country: str = "FR"


def french_siren(registration_number: str) -> str:
    """The SIREN in a French registration number (a SIREN, a SIRET, or an RCS mention), check digits verified."""
    digits = "".join(char for char in registration_number if char.isdigit())
    if len(digits) == 14 and siret.is_valid(digits):
        return siret.to_siren(digits)
    if len(digits) == 9 and siren.is_valid(digits):
        return digits
    raise InvalidInput.field(
        "organisation.registration_number",
        "A French organisation gives its SIREN (9 digits) or SIRET (14 digits); this one's check digit is wrong.",
    )


class AccountService:
    def __init__(
        self,
        unit_of_work: UnitOfWork,
        settings: Settings,
        passwords: Passwords,
        signing_keys: SigningKeys,
        mailer: Mailer,
        oidc: OidcProviders | None = None,
        limits: AuthLimits | None = None,
    ) -> None:
        self.repository = AccountRepository(unit_of_work.session)
        self._unit_of_work = unit_of_work
        self._settings = settings
        self._passwords = passwords
        self._signing_keys = signing_keys
        self._mailer = mailer
        self._oidc = oidc
        self._limits = limits

    # registration and administration

    async def register(
        self,
        *,
        email: str,
        password: str,
        display_name: str,
        role: Role,
        organisation: NewOrganisation | None = None,
    ) -> Account:
        email = normalise_email(email)
        if role is Role.ADMIN:
            raise Forbidden("Administrators are created by the operator (`coop create-admin`).")
        if role is Role.CLIENT and organisation is None:
            raise InvalidInput.field("organisation", "A client acts for an organisation: give its details.")
        if role is Role.MEMBER and organisation is not None:
            raise InvalidInput.field("organisation", "Members register as themselves, without organisation.")
        if organisation is not None and organisation.country == "FR":
            french_siren(organisation.registration_number)
        await self._passwords.check_strength(password, user_inputs=[email, display_name])
        if await self.repository.email_exists(email):
            raise EmailTaken()
        account = await self._create(email, display_name, role, organisation, await self._passwords.hash(password))
        await self._send_email_token(account, EmailTokenPurpose.VERIFY_EMAIL)
        return account

    async def create_admin(self, *, email: str, password: str, display_name: str) -> Account:
        email = normalise_email(email)
        await self._passwords.check_strength(password, user_inputs=[email, display_name])
        if await self.repository.email_exists(email):
            raise EmailTaken()
        account = await self._create(email, display_name, Role.ADMIN, None, await self._passwords.hash(password))
        account.email_verified_at = datetime.now(UTC)
        return account

    async def _create(
        self,
        email: str,
        display_name: str,
        role: Role,
        organisation: NewOrganisation | None,
        password_hash: str | None,
    ) -> Account:
        skeleton = email_skeleton(email)
        if await self.repository.skeleton_exists(skeleton):
            # Another account's address reads the same (a Cyrillic a for a Latin one, rn for m...):
            # refused, or a look-alike could pass for someone else in every list and mail.
            raise EmailLookalike()
        organisation_row = None
        if organisation is not None:
            organisation_row = ClientOrganisation(
                legal_name=organisation.legal_name,
                registration_number=organisation.registration_number,
                billing_address=organisation.billing_address,
                country=organisation.country,
                siren=french_siren(organisation.registration_number) if organisation.country == "FR" else None,
            )
            await self.repository.add(organisation_row)
        account = Account(
            email=email,
            email_skeleton=skeleton,
            display_name=display_name,
            password_hash=password_hash,
            role=role.value,
            member_status=MemberStatus.APPLICANT.value if role is Role.MEMBER else None,
            client_organisation_id=organisation_row.id if organisation_row else None,
        )
        await self.repository.add(account)
        return account

    async def create_moved_in_member(self, *, email: str, display_name: str) -> Account:
        """A member arriving from another cooperative with their archive (the vault's import): an applicant
        with no password, who sets one through the password-reset mail sent with it."""
        email = normalise_email(email)
        if await self.repository.email_exists(email):
            raise EmailTaken()
        account = await self._create(email, display_name, Role.MEMBER, None, None)
        await self._send_email_token(account, EmailTokenPurpose.RESET_PASSWORD)
        return account

    async def get_visible_account(self, viewer: Account, account_id: uuid.UUID) -> Account:
        """An account is visible to itself and to admins; to anyone else it does not exist."""
        if viewer.id != account_id and viewer.role != Role.ADMIN:
            raise NotFound()
        account = await self.repository.get(account_id)
        if account is None:
            raise NotFound()
        return account

    async def get_visible_organisation(self, viewer: Account, organisation_id: uuid.UUID) -> ClientOrganisation:
        if viewer.role != Role.ADMIN and viewer.client_organisation_id != organisation_id:
            raise NotFound()
        organisation = await self.repository.get_organisation(organisation_id)
        if organisation is None:
            raise NotFound()
        return organisation

    async def verify_organisation(self, admin: Account, organisation_id: uuid.UUID) -> ClientOrganisation:
        organisation = await self.repository.get_organisation(organisation_id)
        if organisation is None:
            raise NotFound()
        if organisation.verified_at is None:
            organisation.verified_at, organisation.verified_by_id = datetime.now(UTC), admin.id
        return organisation

    async def list_organisations(
        self, *, unverified_only: bool, limit: int, offset: int
    ) -> tuple[Sequence[ClientOrganisation], int]:
        """Client organisations for the administrators who verify them (those waiting first, if asked)."""
        return await self.repository.list_organisations(unverified_only=unverified_only, limit=limit, offset=offset)

    async def list_accounts(self, *, role: Role | None, limit: int, offset: int) -> tuple[Sequence[Account], int]:
        return await self.repository.list_accounts(role=role.value if role else None, limit=limit, offset=offset)

    async def update_display_name(self, account_id: uuid.UUID, display_name: str) -> Account:
        account = await self.repository.get(account_id)
        if account is None:
            raise NotFound()
        account.display_name = display_name
        return account

    async def set_member_status(self, account_id: uuid.UUID, status: MemberStatus) -> Account:
        account = await self.repository.get(account_id)
        if account is None:
            raise NotFound()
        if account.role != Role.MEMBER:
            raise Conflict("Only members have a membership status.")
        account.member_status = status.value
        return account

    # sign-in and sessions

    async def sign_in(self, *, email: str, password: str, address: str = "unknown") -> IssuedTokens:
        """`address`: the client's (rate-limit key); failures count per account and per address."""
        typed = email
        try:
            email = normalise_email(email)
        except InvalidInput:
            email = ""
        # Limits key on what was typed, normalised when it can be: unknown addresses back off too.
        account_key = email or typed.strip().lower()
        if self._limits is not None:
            await self._limits.check_sign_in(account_key, address)
        account = await self.repository.get_by_email(email) if email else None
        # Verify even when the account is missing, so timing does not tell which emails exist.
        valid = await self._passwords.verify(account.password_hash if account else None, password)
        if account is None or not valid or account.disabled_at is not None:
            if self._limits is not None:
                await self._limits.sign_in_failed(account_key, address)
            raise InvalidCredentials()
        if self._limits is not None:
            await self._limits.sign_in_succeeded(account_key)
        if account.password_hash and self._passwords.needs_rehash(account.password_hash):
            account.password_hash = await self._passwords.hash(password)
        return await self._open_session(account)

    async def _open_session(self, account: Account) -> IssuedTokens:
        lifetime = timedelta(seconds=self._settings.refresh_token_ttl_seconds)
        session = AuthSession(account_id=account.id, expires_at=datetime.now(UTC) + lifetime)
        await self.repository.add(session)
        return await self._issue(account, session)

    async def _issue(self, account: Account, session: AuthSession) -> IssuedTokens:
        refresh_token = new_opaque_token()
        await self.repository.add(
            RefreshToken(
                session_id=session.id,
                token_hash=hash_opaque_token(refresh_token),
                expires_at=session.expires_at,
            )
        )
        access_token = self._signing_keys.issue(
            AccessClaims(account_id=account.id, session_id=session.id, role=account.role)
        )
        return IssuedTokens(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=int(self._signing_keys.ttl.total_seconds()),
        )

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        now = datetime.now(UTC)
        token = await self.repository.lock_refresh_token(hash_opaque_token(refresh_token))
        if token is None:
            raise InvalidToken()
        session = await self.repository.get_session(token.session_id)
        if session is None or session.revoked_at is not None:
            raise InvalidToken()
        if token.used_at is not None:
            # A rotated token came back: someone holds a copy. End the whole family.
            await self.repository.revoke_session(session.id, reason="refresh-token-reuse", at=now)
            raise RefreshTokenReused("This refresh token was already used; the session has been ended.")
        if token.expires_at <= now or session.expires_at <= now:
            raise InvalidToken()
        if self._limits is not None:
            await self._limits.refreshed(str(session.id))
        account = await self.repository.get(session.account_id)
        if account is None or account.disabled_at is not None:
            raise InvalidToken()
        await self.repository.mark_refresh_token_used(token.id, now)
        return await self._issue(account, session)

    async def sign_out(self, session_id: uuid.UUID) -> None:
        await self.repository.revoke_session(session_id, reason="sign-out", at=datetime.now(UTC))

    async def active_sessions(self, account_id: uuid.UUID) -> Sequence[AuthSession]:
        """The account's live sessions (API clients and browsers alike), newest first."""
        return await self.repository.active_sessions(account_id, datetime.now(UTC))

    async def end_session(self, account: Account, session_id: uuid.UUID) -> None:
        """End one of the caller's sessions; someone else's session does not exist for them."""
        session = await self.repository.get_session(session_id)
        if session is None or session.account_id != account.id:
            raise NotFound()
        await self.repository.revoke_session(session_id, reason="ended-by-owner", at=datetime.now(UTC))

    # email verification and password reset

    async def request_email_verification(self, account_id: uuid.UUID) -> None:
        account = await self.repository.get(account_id)
        if account is not None and account.email_verified_at is None:
            await self._send_email_token(account, EmailTokenPurpose.VERIFY_EMAIL)

    async def verify_email(self, token: str) -> Account:
        account = await self._redeem_email_token(token, EmailTokenPurpose.VERIFY_EMAIL)
        account.email_verified_at = account.email_verified_at or datetime.now(UTC)
        return account

    async def request_password_reset(self, email: str) -> None:
        """Same answer whether or not the address has an account."""
        try:
            email = normalise_email(email)
        except InvalidInput:
            return
        account = await self.repository.get_by_email(email)
        if account is not None and account.disabled_at is None:
            await self._send_email_token(account, EmailTokenPurpose.RESET_PASSWORD)

    async def reset_password(self, token: str, new_password: str) -> None:
        account = await self._redeem_email_token(token, EmailTokenPurpose.RESET_PASSWORD)
        await self._passwords.check_strength(new_password, user_inputs=[account.email, account.display_name])
        account.password_hash = await self._passwords.hash(new_password)
        # Whoever knew the old password is signed out everywhere; following the mailed link proves the
        # address, so anything attached to the account before that proof is let go.
        if account.email_verified_at is None:
            account.email_verified_at = datetime.now(UTC)
            await self.repository.delete_identities(account.id)
        await self.repository.revoke_all_sessions(account.id, reason="password-reset", at=datetime.now(UTC))

    async def _send_email_token(self, account: Account, purpose: EmailTokenPurpose) -> None:
        now = datetime.now(UTC)
        await self.repository.expire_email_tokens(account.id, purpose.value, now)
        token = new_opaque_token()
        await self.repository.add(
            EmailToken(
                account_id=account.id,
                purpose=purpose.value,
                token_hash=hash_opaque_token(token),
                expires_at=now + timedelta(seconds=self._settings.email_token_ttl_seconds),
            )
        )
        mail = self._compose(account, purpose, token)
        self._unit_of_work.after_commit(lambda: self._mailer.send(mail))

    def _compose(self, account: Account, purpose: EmailTokenPurpose, token: str) -> Mail:
        base = self._settings.public_base_url.rstrip("/")
        hours = self._settings.email_token_ttl_seconds // 3600
        if purpose is EmailTokenPurpose.VERIFY_EMAIL:
            return Mail(
                to=account.email,
                subject="Confirm your email address",
                body=(
                    f"Hello {account.display_name},\n\n"
                    f"Confirm your address by opening {base}/verify-email?token={token}\n"
                    f"or by sending this token to POST /api/v1/auth/verify-email: {token}\n\n"
                    f"The link works once and expires in {hours} hours.\n"
                ),
            )
        return Mail(
            to=account.email,
            subject="Reset your password",
            body=(
                f"Hello {account.display_name},\n\n"
                f"Someone asked to reset your password. If it was you, open {base}/reset-password?token={token}\n"
                f"or send this token to POST /api/v1/auth/password-reset: {token}\n\n"
                f"The link works once and expires in {hours} hours. If it was not you, ignore this mail.\n"
            ),
        )

    async def _redeem_email_token(self, token: str, purpose: EmailTokenPurpose) -> Account:
        now = datetime.now(UTC)
        row = await self.repository.lock_email_token(hash_opaque_token(token), purpose.value)
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise InvalidToken()
        row.used_at = now
        account = await self.repository.get(row.account_id)
        if account is None or account.disabled_at is not None:
            raise InvalidToken()
        return account

    # OpenID Connect

    def _providers(self) -> OidcProviders:
        if self._oidc is None:
            raise NotFound("No identity provider is configured.")
        return self._oidc

    async def start_oidc(self, provider: str, *, web: bool = False) -> tuple[str, str, str]:
        """Return the provider's authorization URL, the state, and the browser-binding secret.
        `web`: the provider sends the browser back to the web client (which sets its cookie)."""
        await self.repository.purge_login_attempts()
        providers = self._providers()
        redirect_uri = providers.web_redirect_uri(provider) if web else None
        url, attempt, browser_binding = await providers.start(provider, redirect_uri)
        await self.repository.add(attempt)
        return url, attempt.state, browser_binding

    async def finish_oidc(
        self, *, provider: str, state: str, code: str | None, error: str | None, browser_binding: str | None
    ) -> IssuedTokens:
        attempt = await self.repository.take_login_attempt(state)
        if attempt is None:
            raise InvalidToken("Unknown or expired sign-in state; start again.")
        if not browser_binding or not hmac.compare_digest(
            hash_opaque_token(browser_binding), attempt.browser_binding_hash
        ):
            raise InvalidToken("This sign-in was started in another browser; start again.")
        if error or not code:
            raise InvalidToken("The provider did not authorise the sign-in.")
        identity = await self._providers().finish(provider, attempt, code)
        return await self.sign_in_with_identity(identity)

    async def sign_in_with_identity(self, identity: VerifiedIdentity) -> IssuedTokens:
        linked = await self.repository.get_identity(identity.issuer, identity.subject)
        if linked is not None:
            account = await self.repository.get(linked.account_id)
            if account is None or account.disabled_at is not None:
                raise InvalidCredentials()
            return await self._open_session(account)
        if not identity.email:
            raise InvalidInput.field("email", "The identity provider did not share an email address.")
        if not identity.email_verified:
            # An unverified address proves nothing: linking or creating on it would let anyone
            # squat someone else's address.
            raise Conflict("Your identity provider has not verified your email address; verify it there first.")
        email = normalise_email(identity.email)
        account = await self.repository.get_by_email(email)
        now = datetime.now(UTC)
        if account is not None:
            if account.disabled_at is not None:
                raise InvalidCredentials()
            if account.email_verified_at is None:
                # Someone may have registered this address without owning it: their password goes.
                account.password_hash = None
                account.email_verified_at = now
                await self.repository.revoke_all_sessions(account.id, reason="oidc-takeover-guard", at=now)
        else:
            account = await self._create(email, (identity.name or email.split("@")[0])[:120], Role.MEMBER, None, None)
            account.email_verified_at = now if identity.email_verified else None
        await self.repository.add(OidcIdentity(account_id=account.id, issuer=identity.issuer, subject=identity.subject))
        return await self._open_session(account)
