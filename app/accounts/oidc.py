""" "Sign in with ..." any OpenID Connect provider: authorization code + PKCE through Authlib.

The provider's discovery document and keys are fetched on first use and cached per process.
Raw Authlib objects never leave this module: callers get `VerifiedIdentity`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.accounts.tokens import hash_opaque_token
from app.core.errors import InvalidToken, NotFound, ProviderUnavailable
from app.models import OidcLoginAttempt
from app.settings import OidcProviderSettings

LOGIN_ATTEMPT_TTL = timedelta(minutes=10)
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA", "Ed25519"]


@dataclass(frozen=True)
class VerifiedIdentity:
    """What an OpenID Connect provider asserted about the person signing in."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def _printable(text: object, limit: int) -> str | None:
    """Provider claims are foreign input: keep printable characters only, bounded."""
    if not isinstance(text, str):
        return None
    cleaned = "".join(character for character in text if character.isprintable()).strip()
    return cleaned[:limit] or None


@dataclass
class _Discovered:
    metadata: dict[str, Any]
    keys: KeySet


class OidcProviders:
    def __init__(self, providers: list[OidcProviderSettings], public_base_url: str) -> None:
        self._providers = {provider.name: provider for provider in providers}
        self._base = public_base_url.rstrip("/")
        self._discovered: dict[str, _Discovered] = {}

    @property
    def configured(self) -> list[OidcProviderSettings]:
        return list(self._providers.values())

    def redirect_uri(self, name: str) -> str:
        return f"{self._base}/api/v1/auth/oidc/{name}/callback"

    def web_redirect_uri(self, name: str) -> str:
        """Where the provider sends a browser that started from the web client's sign-in page."""
        return f"{self._base}/sign-in/oidc/{name}/callback"

    def _provider(self, name: str) -> OidcProviderSettings:
        provider = self._providers.get(name)
        if provider is None:
            raise NotFound(f"No identity provider named {name!r} is configured.")
        return provider

    def _client(
        self, provider: OidcProviderSettings, redirect_uri: str | None = None, **kwargs: Any
    ) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=provider.client_id,
            client_secret=provider.client_secret.get_secret_value(),
            scope=provider.scope,
            redirect_uri=redirect_uri or self.redirect_uri(provider.name),
            code_challenge_method="S256",
            timeout=10,
            **kwargs,
        )

    async def _discover(self, provider: OidcProviderSettings, *, refresh: bool = False) -> _Discovered:
        cached = self._discovered.get(provider.name)
        if cached is not None and not refresh:
            return cached
        well_known = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                metadata = (await http.get(well_known)).raise_for_status().json()
                jwks = (await http.get(metadata["jwks_uri"])).raise_for_status().json()
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise ProviderUnavailable(f"Could not read {provider.name}'s OpenID configuration.") from error
        if metadata.get("issuer") != provider.issuer:
            raise ProviderUnavailable("The provider's discovery document names another issuer.")
        discovered = _Discovered(metadata=metadata, keys=KeySet.import_key_set(jwks))
        self._discovered[provider.name] = discovered
        return discovered

    async def start(self, name: str, redirect_uri: str | None = None) -> tuple[str, OidcLoginAttempt, str]:
        """The provider's authorization URL, the attempt to store, and the browser-binding secret
        to hand to the browser in a cookie. `redirect_uri` defaults to the API's callback."""
        provider = self._provider(name)
        redirect_uri = redirect_uri or self.redirect_uri(name)
        discovered = await self._discover(provider)
        browser_binding = secrets.token_urlsafe(32)
        attempt = OidcLoginAttempt(
            state=secrets.token_urlsafe(32),
            provider=name,
            nonce=secrets.token_urlsafe(32),
            code_verifier=generate_token(64),
            redirect_uri=redirect_uri,
            browser_binding_hash=hash_opaque_token(browser_binding),
            expires_at=datetime.now(UTC) + LOGIN_ATTEMPT_TTL,
        )
        async with self._client(provider, redirect_uri) as client:
            url, _ = client.create_authorization_url(
                discovered.metadata["authorization_endpoint"],
                state=attempt.state,
                nonce=attempt.nonce,
                code_verifier=attempt.code_verifier,
            )
        return url, attempt, browser_binding

    async def finish(self, name: str, attempt: OidcLoginAttempt, code: str) -> VerifiedIdentity:
        provider = self._provider(name)
        if attempt.provider != name:
            raise InvalidToken("This sign-in was started with another provider.")
        discovered = await self._discover(provider)
        try:
            async with self._client(provider, attempt.redirect_uri) as client:
                token = await client.fetch_token(
                    discovered.metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=attempt.code_verifier,
                    redirect_uri=attempt.redirect_uri,
                )
        except Exception as error:  # Authlib raises several families (OAuthError, httpx errors)
            raise ProviderUnavailable("The provider refused the authorization code.") from error
        id_token = token.get("id_token")
        if not id_token:
            raise ProviderUnavailable("The provider returned no ID token.")
        try:
            claims = self._verify_id_token(provider, discovered, id_token, attempt.nonce)
        except ProviderUnavailable:
            # The provider may have rotated its keys since we cached them: fetch them once more.
            claims = self._verify_id_token(
                provider, await self._discover(provider, refresh=True), id_token, attempt.nonce
            )
        return VerifiedIdentity(
            issuer=provider.issuer,
            subject=str(claims["sub"]),
            email=_printable(claims.get("email"), 254),
            email_verified=claims.get("email_verified") is True,
            name=_printable(claims.get("name"), 120),
        )

    @staticmethod
    def _verify_id_token(
        provider: OidcProviderSettings, discovered: _Discovered, id_token: str, nonce: str
    ) -> dict[str, Any]:
        try:
            decoded = jwt.decode(id_token, discovered.keys, algorithms=ID_TOKEN_ALGORITHMS)
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": provider.issuer},
                aud={"essential": True, "value": provider.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise ProviderUnavailable("The provider's ID token failed verification.") from error
        return dict(decoded.claims)
