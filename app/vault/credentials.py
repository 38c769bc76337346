"""The cooperative's signatures on what it exports: the manifest (compact JWS), W3C Verifiable
Credentials 2.0 secured as `vc+jwt` (VC-JOSE-COSE, EdDSA over Ed25519), and its `did:web` DID document.

The keys are the ones that sign access tokens (COOP_JWT_PRIVATE_KEYS, first signs, all verify), so
`/.well-known/jwks.json` and `/.well-known/did.json` publish the same public keys. Verification of
another cooperative's signatures uses only the public keys an administrator registered for it
(a trusted issuer): nothing is fetched from the network, so an archive stays verifiable after the
issuing cooperative is gone.

Nothing here touches the database or HTTP.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from app.accounts.tokens import development_key
from app.settings import Settings

ALGORITHM = "EdDSA"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MANIFEST_TYPE = "coop-vault-manifest+jws"
CREDENTIAL_TYPE = "vc+jwt"


class SignatureError(Exception):
    """A signature does not verify, or its key belongs to no trusted issuer."""


@contextmanager
def _quietly() -> Iterator[None]:
    # joserfc flags "EdDSA" as superseded by RFC 9864's "Ed25519"; verifiers of VCs still expect EdDSA.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        yield


def did_web(public_base_url: str) -> str:
    """did:web of the cooperative's public URL (host, port percent-encoded, then the path's segments)."""
    parts = urlsplit(public_base_url)
    did = "did:web:" + quote(parts.netloc, safe="")
    for segment in [s for s in parts.path.split("/") if s]:
        did += ":" + quote(segment, safe="")
    return did


def manifest_statement(manifest: bytes) -> bytes:
    """What `manifest.jws` signs: the manifest's SHA-256, as canonical JSON."""
    return canonical_json({"manifest_sha256": hashlib.sha256(manifest).hexdigest()})


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class VaultSigner:
    """Signs with the cooperative's current key; publishes every key as JWKS and DID document."""

    def __init__(self, pems: list[str], *, public_base_url: str, name: str) -> None:
        if not pems:
            raise ValueError("at least one signing key is required")
        keys = [OKPKey.import_key(pem) for pem in pems]
        for key in keys:
            key.ensure_kid()
        self._key = keys[0]
        self._public = [OKPKey.import_key(key.as_dict(private=False)) for key in keys]
        self.did = did_web(public_base_url)
        self.url = public_base_url
        self.name = name

    @classmethod
    def from_settings(cls, settings: Settings) -> VaultSigner:
        pems = [key.get_secret_value() for key in settings.jwt_private_keys] or [development_key(settings.data_dir)]
        return cls(pems, public_base_url=settings.public_base_url, name=settings.vault_issuer_name)

    @property
    def key_id(self) -> str:
        return f"{self.did}#{self._key.kid}"

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in self._public]}

    def did_document(self) -> dict[str, Any]:
        methods = [
            {
                "id": f"{self.did}#{key.kid}",
                "type": "JsonWebKey",
                "controller": self.did,
                "publicKeyJwk": key.as_dict(private=False),
            }
            for key in self._public
        ]
        ids = [method["id"] for method in methods]
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
            "id": self.did,
            "alsoKnownAs": [self.url],
            "verificationMethod": methods,
            "assertionMethod": ids,
            "authentication": ids,
        }

    def sign_manifest(self, manifest: bytes) -> str:
        """Signs the manifest's SHA-256, not its bytes: a member's manifest can pass JOSE libraries' size
        limits (joserfc refuses compact tokens above ~128 KiB)."""
        header = {"alg": ALGORITHM, "kid": self.key_id, "typ": MANIFEST_TYPE}
        with _quietly():
            return jws.serialize_compact(header, manifest_statement(manifest), self._key, algorithms=[ALGORITHM])

    def sign(self, payload: bytes, typ: str) -> str:
        """A compact JWS of `payload` (a consent receipt, for instance)."""
        header = {"alg": ALGORITHM, "kid": self.key_id, "typ": typ}
        with _quietly():
            return jws.serialize_compact(header, payload, self._key, algorithms=[ALGORITHM])

    def verify_own(self, token: str, typ: str) -> bytes | None:
        """The payload of a compact JWS this cooperative signed with `typ`, or None."""
        try:
            header = jws.extract_compact(token.encode()).protected
            if header.get("typ") != typ or header.get("kid") not in {f"{self.did}#{k.kid}" for k in self._public}:
                return None
            keys = KeySet.import_key_set(
                {"keys": [{**k.as_dict(private=False), "kid": f"{self.did}#{k.kid}"} for k in self._public]}
            )
            with _quietly():
                return jws.deserialize_compact(token, keys, algorithms=[ALGORITHM]).payload
        except (JoseError, ValueError, TypeError):
            return None

    def issue(self, credential: dict[str, Any]) -> str:
        """A VC 2.0 secured as a JWT: the payload is the credential itself (VC-JOSE-COSE)."""
        header = {"alg": ALGORITHM, "kid": self.key_id, "typ": CREDENTIAL_TYPE, "cty": "vc"}
        with _quietly():
            return jwt.encode(header, credential, self._key, algorithms=[ALGORITHM])


@dataclass(frozen=True)
class TrustedKeys:
    """The public keys of every issuer this cooperative trusts, itself included, by DID."""

    by_did: Mapping[str, dict[str, Any]]  # did -> JWKS

    def key_set(self, kid: str) -> tuple[str, KeySet]:
        did, _, thumbprint = kid.partition("#")
        jwks = self.by_did.get(did)
        if jwks is None or not thumbprint:
            raise SignatureError(f"the key {kid[:200]!r} belongs to no trusted issuer")
        keys = [key for key in jwks.get("keys", []) if key.get("kid") == thumbprint]
        if not keys:
            raise SignatureError(f"the issuer {did[:200]} has no key {thumbprint[:100]!r}")
        try:
            # Named as the signatures name them: by their verification method in the DID document.
            return did, KeySet.import_key_set({"keys": [{**key, "kid": kid} for key in keys]})
        except (JoseError, ValueError, TypeError) as error:
            raise SignatureError("the issuer's registered key cannot be read") from error

    def verify_manifest(self, token: str, manifest: bytes) -> str:
        """The issuer's DID if `token` is a valid signature of exactly `manifest` by a trusted key."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, TypeError) as error:
            raise SignatureError("the manifest's signature is not a compact JWS") from error
        if header.get("typ") != MANIFEST_TYPE or header.get("alg") not in (ALGORITHM, "Ed25519"):
            raise SignatureError("the manifest's signature is not of the expected type")
        did, keys = self.key_set(str(header.get("kid", "")))
        try:
            with _quietly():
                verified = jws.deserialize_compact(token, keys, algorithms=[ALGORITHM, "Ed25519"])
        except (JoseError, ValueError, TypeError) as error:
            raise SignatureError("the manifest's signature does not verify") from error
        if verified.payload != manifest_statement(manifest):
            raise SignatureError("the signature is of another manifest")
        return did

    def verify_credential(self, token: str) -> tuple[str, dict[str, Any]]:
        """(issuer DID, credential) of a `vc+jwt` signed by a trusted issuer that names itself as issuer."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, TypeError) as error:
            raise SignatureError("a credential is not a compact JWS") from error
        if header.get("typ") != CREDENTIAL_TYPE:
            raise SignatureError("a credential is not a vc+jwt")
        did, keys = self.key_set(str(header.get("kid", "")))
        try:
            with _quietly():
                decoded = jwt.decode(token, keys, algorithms=[ALGORITHM, "Ed25519"])
        except (JoseError, ValueError, TypeError) as error:
            raise SignatureError("a credential's signature does not verify") from error
        credential = decoded.claims
        issuer = credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer_id != did or VC_CONTEXT not in (credential.get("@context") or []):
            raise SignatureError("a credential names another issuer than its signer, or is not a VC 2.0")
        return did, credential


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
