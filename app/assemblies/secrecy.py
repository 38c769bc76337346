"""Election keys, sealed ballots, key shares, trackers and receipts (see docs/assemblies.md, "Secret ballots").

* A secret ballot is encrypted on arrival with HPKE (RFC 9180: X25519, HKDF-SHA256, AES-128-GCM) to
  the vote's **election public key**, with the proposal and the voter bound in HPKE's `info`, so a
  ciphertext moved to another voter's row no longer decrypts. The database holds the public key and
  the ciphertexts, never the private key.
* The private key is either derived from a server setting and a per-vote salt (custody `server`: the
  salt is erased at the close), or generated at the opening, split k-of-n with Shamir's scheme among
  the bureau's scrutineers, each share encrypted to the scrutineer's own key, and forgotten (custody
  `bureau`): only k scrutineers bringing their shares at the close can rebuild it.
* The **seal** of a ballot row is HMAC-SHA256(seal key, proposal || voter || ballot): someone who can
  write to the database but does not hold the server secret cannot substitute a ballot unnoticed
  (anyone could encrypt a new ballot to the public key).
* The **tracker** is a random 128-bit value inside the encrypted ballot, given to the voter in their
  receipt and published with the ballot at the close, so each voter finds their own ballot.

Nothing here touches the database or HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from joserfc import jws
from joserfc.jwk import OKPKey

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
BALLOT_INFO = b"coop/ballot/v1/"
SHARE_INFO = b"coop/key-share/v1/"
# A Mersenne prime above 2^256: the field Shamir's polynomials live in (an X25519 key is 32 bytes).
PRIME = 2**521 - 1


class UnreadableBallot(Exception):
    """A ciphertext that does not decrypt with the key given (wrong key, wrong row, altered bytes)."""


class InvalidShare(Exception):
    """A key share that is malformed, or does not rebuild the vote's key."""


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def published_rows_sha256(rows: list[dict[str, Any]]) -> str:
    """SHA-256 of a published ballot box (rows in position order, ids as strings)."""
    return sha256_hex(
        canonical(
            [
                {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in row.items() if k != "proposal_id"}
                for row in rows
            ]
        )
    )


def new_tracker() -> str:
    return secrets.token_hex(16)


def public_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class BallotSeals:
    """Seals ballot rows with a key derived from the server secret."""

    def __init__(self, server_secret: str) -> None:
        self._key = hmac.new(server_secret.encode(), b"coop/ballot-seal/v2", hashlib.sha256).digest()

    def seal(self, proposal_id: uuid.UUID, voter_id: uuid.UUID, ballot: bytes) -> bytes:
        return hmac.new(self._key, proposal_id.bytes + voter_id.bytes + ballot, hashlib.sha256).digest()

    def seal_ok(self, proposal_id: uuid.UUID, voter_id: uuid.UUID, ballot: bytes, seal: bytes) -> bool:
        return hmac.compare_digest(self.seal(proposal_id, voter_id, ballot), seal)


class ElectionKeys:
    """Makes election keys and seals ballots to them; in `server` custody, re-derives the private key."""

    def __init__(self, ballot_secret: str) -> None:
        self._secret = ballot_secret.encode()

    @staticmethod
    def new_salt() -> bytes:
        return secrets.token_bytes(32)

    def server_private_key(self, proposal_id: uuid.UUID, salt: bytes) -> X25519PrivateKey:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=salt, info=b"coop/election-key/v1/" + proposal_id.bytes
        ).derive(self._secret)
        return X25519PrivateKey.from_private_bytes(derived)

    @staticmethod
    def encrypt(public_key: bytes, proposal_id: uuid.UUID, voter_id: uuid.UUID, content: dict[str, Any]) -> bytes:
        return SUITE.encrypt(
            canonical(content),
            X25519PublicKey.from_public_bytes(public_key),
            BALLOT_INFO + proposal_id.bytes + voter_id.bytes,
        )

    @staticmethod
    def decrypt(
        private_key: X25519PrivateKey, proposal_id: uuid.UUID, voter_id: uuid.UUID, ciphertext: bytes
    ) -> dict[str, Any]:
        try:
            plain = SUITE.decrypt(ciphertext, private_key, BALLOT_INFO + proposal_id.bytes + voter_id.bytes)
        except Exception as error:  # the library's InvalidTag and friends: all mean "not for this key"
            raise UnreadableBallot(str(error) or type(error).__name__) from error
        return json.loads(plain)


# -- Shamir's secret sharing of an election key -------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    proposal_id: uuid.UUID
    x: int
    y: int

    def encode(self) -> str:
        return f"coop-share-1.{self.proposal_id}.{self.x}.{self.y:x}"

    @classmethod
    def decode(cls, text: str) -> Share:
        try:
            tag, proposal, x, y = text.strip().split(".")
            if tag != "coop-share-1":
                raise ValueError(tag)
            share = cls(uuid.UUID(proposal), int(x), int(y, 16))
        except ValueError as error:
            raise InvalidShare("not a key share of this cooperative") from error
        if not 0 < share.x < 256 or not 0 <= share.y < PRIME:
            raise InvalidShare("the share's numbers are out of range")
        return share

    def commitment(self) -> bytes:
        return hashlib.sha256(self.encode().encode()).digest()


def split_key(private_key: X25519PrivateKey, proposal_id: uuid.UUID, count: int, threshold: int) -> list[Share]:
    """`count` shares, any `threshold` of which rebuild the key; fewer say nothing about it."""
    if not 1 <= threshold <= count <= 255:
        raise ValueError("need 1 <= threshold <= count <= 255")
    secret = int.from_bytes(private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()), "big")
    coefficients = [secret, *(secrets.randbelow(PRIME) for _ in range(threshold - 1))]
    shares = []
    for x in range(1, count + 1):
        y = 0
        for coefficient in reversed(coefficients):  # Horner
            y = (y * x + coefficient) % PRIME
        shares.append(Share(proposal_id, x, y))
    return shares


def combine_shares(shares: list[Share]) -> X25519PrivateKey:
    """Lagrange interpolation at zero. The caller checks the result against the vote's public key."""
    xs = [share.x for share in shares]
    if len(set(xs)) != len(xs):
        raise InvalidShare("the same share was given twice")
    secret = 0
    for i, share in enumerate(shares):
        numerator, denominator = 1, 1
        for j, other in enumerate(shares):
            if i != j:
                numerator = numerator * -other.x % PRIME
                denominator = denominator * (share.x - other.x) % PRIME
        secret = (secret + share.y * numerator * pow(denominator, -1, PRIME)) % PRIME
    if secret >= 2**256:
        raise InvalidShare("these shares do not rebuild a key")
    return X25519PrivateKey.from_private_bytes(secret.to_bytes(32, "big"))


def encrypt_share(share: Share, trustee_public_key: bytes, trustee_id: uuid.UUID) -> bytes:
    return SUITE.encrypt(
        share.encode().encode(),
        X25519PublicKey.from_public_bytes(trustee_public_key),
        SHARE_INFO + share.proposal_id.bytes + trustee_id.bytes,
    )


def decrypt_share(
    encrypted: bytes, trustee_private_key: X25519PrivateKey, proposal_id: uuid.UUID, trustee_id: uuid.UUID
) -> Share:
    """What a scrutineer runs on their own machine (`coop trustee open-share`)."""
    try:
        plain = SUITE.decrypt(encrypted, trustee_private_key, SHARE_INFO + proposal_id.bytes + trustee_id.bytes)
    except Exception as error:
        raise InvalidShare("this share was not encrypted to this key") from error
    return Share.decode(plain.decode())


class ReceiptSigner:
    """Signs ballot receipts (compact JWS, Ed25519) with the key that signs access tokens.

    Anyone can check a receipt against `/.well-known/jwks.json`: a voter whose tracker is missing
    from the published box holds the cooperative's signed acknowledgement of their ballot.
    """

    def __init__(self, pem: str) -> None:
        self._key = OKPKey.import_key(pem)
        self._key.ensure_kid()
        self._header = {"alg": "Ed25519", "kid": self._key.kid, "typ": "coop-ballot-receipt"}
        # Every receipt of a burst signs under the same header: its encoded segment is taken once from
        # joserfc's own output, and the signature made with the key directly (joserfc builds a registry,
        # checks and encodes the header on every call: ~35 % of a receipt's signing time). Ed25519 is
        # deterministic, so the result is checked here to be byte for byte joserfc's; if it ever differs
        # (another joserfc), receipts are signed by joserfc as before.
        sample = self._joserfc(b"{}")
        self._segment = sample.split(".", 1)[0].encode() + b"."
        self._private = self._key.private_key
        if self._private is None or self._direct(b"{}") != sample:
            self._private = None

    def _joserfc(self, payload: bytes) -> str:
        return jws.serialize_compact(self._header, payload, self._key, algorithms=["Ed25519"])

    def _direct(self, payload: bytes) -> str:
        signing_input = self._segment + base64.urlsafe_b64encode(payload).rstrip(b"=")
        signature = base64.urlsafe_b64encode(self._private.sign(signing_input)).rstrip(b"=")  # type: ignore[union-attr]
        return (signing_input + b"." + signature).decode()

    def sign(self, receipt: dict[str, Any]) -> str:
        payload = canonical(receipt)
        return self._direct(payload) if self._private is not None else self._joserfc(payload)
