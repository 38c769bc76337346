"""Access tokens (Ed25519-signed JWTs with a `kid`) and opaque single-use secrets."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from app.settings import Settings

ALGORITHM = "Ed25519"
# Verified tokens remembered per process (see `SigningKeys.verify`): about one per active session.
VERIFIED_TOKENS_KEPT = 4096


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> bytes:
    """Opaque tokens carry 256 bits of entropy, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class AccessClaims:
    account_id: uuid.UUID
    session_id: uuid.UUID
    role: str


class SigningKeys:
    """The first key signs; every key verifies, so a new key can be prepended before the old one goes."""

    def __init__(self, pems: list[str], *, issuer: str, ttl: timedelta) -> None:
        if not pems:
            raise ValueError("at least one signing key is required")
        keys = [OKPKey.import_key(pem) for pem in pems]
        for key in keys:
            key.ensure_kid()
        self._signing_key = keys[0]
        self._key_set = KeySet(keys)
        self._issuer = issuer
        self._ttl = ttl
        self._claims_registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            exp={"essential": True},
            sub={"essential": True},
            sid={"essential": True},
        )
        # token -> (claims, expiry): whether a token's signature and claims are valid depends only
        # on the token and on these keys, which never change for this object; only expiry moves,
        # and it is checked on every use. Revocation is not decided here (the session query is).
        self._verified: dict[str, tuple[AccessClaims, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningKeys:
        pems = [key.get_secret_value() for key in settings.jwt_private_keys]
        if not pems:
            pems = [development_key(settings.data_dir)]
        return cls(pems, issuer=settings.public_base_url, ttl=timedelta(seconds=settings.access_token_ttl_seconds))

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def public_jwks(self) -> dict[str, Any]:
        return self._key_set.as_dict(private=False)

    def issue(self, claims: AccessClaims) -> str:
        now = datetime.now(UTC)
        payload = {
            "iss": self._issuer,
            "sub": str(claims.account_id),
            "sid": str(claims.session_id),
            "role": claims.role,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": ALGORITHM, "kid": self._signing_key.kid, "typ": "at+jwt"}
        return jwt.encode(header, payload, self._signing_key, algorithms=[ALGORITHM])

    def verify(self, token: str) -> AccessClaims | None:
        """The token's claims if it is signed by one of our keys, ours (issuer) and not expired.

        Ed25519 verification is a tenth of a millisecond per request; a token seen before is
        recognised by its exact text instead (a forged or altered token is a different string,
        never in the table), and its expiry is checked again each time.
        """
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if expires > datetime.now(UTC).timestamp():
                return claims
            del self._verified[token]
            return None
        try:
            decoded = jwt.decode(token, self._key_set, algorithms=[ALGORITHM])
            self._claims_registry.validate(decoded.claims)
            claims = AccessClaims(
                account_id=uuid.UUID(decoded.claims["sub"]),
                session_id=uuid.UUID(decoded.claims["sid"]),
                role=str(decoded.claims.get("role", "")),
            )
            expires = int(decoded.claims["exp"])
        except (JoseError, ValueError, KeyError, TypeError):
            return None
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (claims, expires)
        return claims


def development_key(data_dir: Path) -> str:
    """A key generated once per data directory, so development sessions survive restarts."""
    path = data_dir / "jwt-development-key.pem"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = OKPKey.generate_key("Ed25519", private=True)
        path.write_bytes(key.as_pem(private=True))
        path.chmod(0o600)
    return path.read_text()


def generate_private_key_pem() -> str:
    return OKPKey.generate_key("Ed25519", private=True).as_pem(private=True).decode()
