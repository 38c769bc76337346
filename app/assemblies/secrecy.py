"""Keys, slots, seals and trackers of the ballot box (see docs/assemblies.md, "Secret ballots").

* The **slot** of a member's ballot is HMAC-SHA256(box key, member id). The box key is
  HMAC-SHA256(server secret, "coop/ballot-box/" || salt), where the salt is drawn when the vote
  opens and erased when it closes: afterwards nobody, not even with the server secret and a full
  copy of the database, can recompute which slot was whose.
* The **seal** of a box row is HMAC-SHA256(seal key, proposal || slot || content): someone who can
  write to the database but does not hold the server secret cannot change a ballot unnoticed.
* The **tracker** is a random 128-bit value given to the voter as their receipt and published with
  the ballot at the close, so each voter can find their own ballot in the published box.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey


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


class BoxKeys:
    def __init__(self, server_secret: str) -> None:
        self._secret = server_secret.encode()
        self._seal_key = hmac.new(self._secret, b"coop/ballot-seal", hashlib.sha256).digest()

    @staticmethod
    def new_salt() -> bytes:
        return secrets.token_bytes(32)

    @staticmethod
    def new_tracker() -> str:
        return secrets.token_hex(16)

    def box_key(self, salt: bytes) -> bytes:
        return hmac.new(self._secret, b"coop/ballot-box/" + salt, hashlib.sha256).digest()

    @staticmethod
    def slot(box_key: bytes, voter_id: uuid.UUID) -> bytes:
        return hmac.new(box_key, voter_id.bytes, hashlib.sha256).digest()

    def seal(
        self, proposal_id: uuid.UUID, slot: bytes, college: str | None, choice: Any, reason: str | None, tracker: str
    ) -> bytes:
        content = canonical({"college": college, "choice": choice, "reason": reason, "tracker": tracker})
        return hmac.new(self._seal_key, proposal_id.bytes + slot + content, hashlib.sha256).digest()

    def seal_ok(
        self,
        proposal_id: uuid.UUID,
        slot: bytes,
        college: str | None,
        choice: Any,
        reason: str | None,
        tracker: str,
        seal: bytes,
    ) -> bool:
        return hmac.compare_digest(self.seal(proposal_id, slot, college, choice, reason, tracker), seal)


class ReceiptSigner:
    """Signs ballot receipts (compact JWS, Ed25519) with the key that signs access tokens.

    Anyone can check a receipt against `/.well-known/jwks.json`: a voter whose tracker is missing
    from the published box holds the cooperative's signed acknowledgement of their ballot.
    """

    def __init__(self, pem: str) -> None:
        self._key = OKPKey.import_key(pem)
        self._key.ensure_kid()

    def sign(self, receipt: dict[str, Any]) -> str:
        header = {"alg": "Ed25519", "kid": self._key.kid, "typ": "coop-ballot-receipt"}
        return jws.serialize_compact(header, canonical(receipt), self._key, algorithms=["Ed25519"])
