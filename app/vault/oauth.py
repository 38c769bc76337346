"""The partners' OAuth 2.0 token endpoint (client credentials, RFC 6749 section 4.4) on Authlib.

This is the one vault module that imports Authlib (an import-linter contract says so). Authlib's
authorization server is synchronous, so the caller loads the partner and its convention first
(`PartnerClient`), and Authlib then authenticates the client (HTTP Basic or form secret, compared in
constant time), checks the grant type and the requested scopes against the convention's categories,
and mints a random bearer token. Only the token's hash is stored, by the caller.

Nothing here touches the database; nothing here knows Litestar.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator

TOKEN_PATH = "/api/v1/vault/oauth/token"  # noqa: S105 - a path, not a secret


def hash_secret(secret: str) -> bytes:
    """Secrets carry 256 bits of entropy: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class PartnerClient(ClientMixin):
    """A partner as Authlib sees it: its client id, its secret's hash, what its convention allows."""

    client_id: str
    secret_hash: bytes
    allowed_scopes: frozenset[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope_to_list(scope) or [] if s in self.allowed_scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(hash_secret(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


@dataclass
class TokenRequest:
    form: dict[str, str]
    headers: dict[str, str]

    @classmethod
    def parse(cls, body: bytes, headers: dict[str, str]) -> TokenRequest:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            pairs = []
        # Authlib looks headers up by their canonical spelling ("Authorization"); ASGI gives lower case.
        return cls(form=dict(pairs), headers={name.title(): value for name, value in headers.items()})

    def client_id(self) -> str | None:
        basic_id, _ = extract_basic_authorization(self.headers)
        return basic_id or self.form.get("client_id")

    @property
    def resource(self) -> str | None:
        """RFC 8707: which convention the token is for (`urn:coop:convention:<id>`)."""
        return self.form.get("resource")


@dataclass
class TokenOutcome:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]
    # Set when a token was issued: the token itself and its granted scopes.
    token: str | None = None
    scopes: list[str] = field(default_factory=list)


class _Server(AuthorizationServer):
    def __init__(self, client: PartnerClient | None, expires_in: int) -> None:
        super().__init__(
            scopes_supported=sorted(client.allowed_scopes) if client else [],
        )
        self._client = client
        self.issued: dict[str, Any] | None = None
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: secrets.token_urlsafe(32),
                expires_generator=lambda client, grant_type: expires_in,
            ),
        )

    def query_client(self, client_id: str) -> PartnerClient | None:
        if self._client is not None and hmac.compare_digest(client_id, self._client.client_id):
            return self._client
        return None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.issued = token

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> TokenOutcome:
        return TokenOutcome(status=status, body=dict(body), headers=list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def issue_token(request: TokenRequest, client: PartnerClient | None, *, expires_in: int, issuer: str) -> TokenOutcome:
    """Authlib's answer to a client-credentials request: a token, or an RFC 6749 error."""
    server = _Server(client, expires_in)
    # TLS ends at the reverse proxy (production refuses a non-https public URL), so Authlib's transport
    # check is told the public scheme rather than the proxy's.
    oauth_request = OAuth2Request("POST", "https://" + issuer.split("://", 1)[-1] + TOKEN_PATH, headers=request.headers)
    oauth_request.payload = BasicOAuth2Payload(request.form)
    outcome = server.create_token_response(oauth_request)
    if server.issued is not None:
        outcome.token = server.issued["access_token"]
        outcome.scopes = scope_to_list(server.issued.get("scope") or "") or []
    return outcome
