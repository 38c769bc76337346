"""The election keys of secret votes: the server's derived key or the bureau's shared one (see secrecy.py)."""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.assemblies.secrecy import (
    ElectionKeys,
    encrypt_share,
    public_bytes,
    split_key,
)
from app.assemblies.service_base import ServiceBase
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    Account,
    Assembly,
    BallotKeyShare,
    Proposal,
    Role,
)


class KeyCustodyRules(ServiceBase):
    """The election keys of secret votes: the server's derived key or the bureau's shared one (see secrecy.py)."""

    async def _make_election_key(self, proposal: Proposal, bureau: dict[str, Any] | None) -> dict[str, Any]:
        """The vote's election key: its public half goes in the database, its private half never does.

        With a bureau, the key is drawn here, split among the scrutineers (each share encrypted to
        the scrutineer's own key) and dropped when this function returns. Without one, it is derived
        from the ballot secret (a setting) and a salt that the close erases.
        """
        if bureau:
            trustees = [uuid.UUID(t) for t in bureau["trustees"]]
            keys = await self.repository.trustee_keys(trustees)
            missing = [str(t) for t in trustees if t not in keys]
            if missing:
                raise Conflict(f"Scrutineers without a registered key cannot hold shares: {', '.join(missing)}.")
            private = X25519PrivateKey.generate()
            shares = split_key(private, proposal.id, len(trustees), bureau["threshold"])
            await self.repository.add(
                *(
                    BallotKeyShare(
                        proposal_id=proposal.id,
                        trustee_id=trustee,
                        x=share.x,
                        encrypted_share=encrypt_share(share, keys[trustee], trustee),
                        commitment=share.commitment(),
                    )
                    for trustee, share in zip(trustees, shares, strict=True)
                )
            )
            proposal.key_custody = "bureau"
            proposal.key_threshold = bureau["threshold"]
        else:
            proposal.election_key_salt = ElectionKeys.new_salt()
            private = self._context.election.server_private_key(proposal.id, proposal.election_key_salt)
            proposal.key_custody = "server"
        proposal.election_public_key = public_bytes(private.public_key())
        return {
            "key_custody": proposal.key_custody,
            "election_public_key": proposal.election_public_key.hex(),
            **({"scrutineers": bureau["trustees"], "threshold": bureau["threshold"]} if bureau else {}),
        }

    async def set_trustee_key(self, account: Account, public_key: bytes) -> None:
        await self.require_reader(account)
        if len(public_key) != 32:
            raise InvalidInput.field("public_key", "must be a 32-byte X25519 public key, base64url")
        await self.repository.set_trustee_key(account.id, public_key)

    async def set_bureau(
        self, account: Account, assembly_id: uuid.UUID, trustees: list[uuid.UUID], threshold: int
    ) -> Assembly:
        self.require_chair(account)
        assembly = await self.visible_assembly(account, assembly_id, lock=True)
        if assembly.state not in ("planned", "convened"):
            raise Conflict(f"The assembly is {assembly.state}: its bureau is named before the vote opens.")
        if not trustees:  # no bureau: the assembly's secret votes fall back to the server-held key
            assembly.bureau = None
            await self.repository.add(assembly)
            self._audit("assembly.bureau", actor_id=account.id, assembly_id=assembly.id, data={"trustees": []})
            return assembly
        if len(set(trustees)) != len(trustees):
            raise InvalidInput.field("trustees", "names the same person twice")
        if threshold > len(trustees):
            raise InvalidInput.field("threshold", "cannot exceed the number of scrutineers")
        keys = await self.repository.trustee_keys(trustees)
        missing = [str(t) for t in trustees if t not in keys]
        if missing:
            raise InvalidInput(
                "Every scrutineer must first register a key (PUT /api/v1/me/trustee-key).",
                errors=[{"field": "trustees", "message": f"no registered key: {', '.join(missing)}"}],
            )
        assembly.bureau = {"trustees": [str(t) for t in trustees], "threshold": threshold}
        await self.repository.add(assembly)
        self._audit(
            "assembly.bureau",
            actor_id=account.id,
            assembly_id=assembly.id,
            data={"trustees": assembly.bureau["trustees"], "threshold": threshold},
        )
        return assembly

    async def my_key_share(self, account: Account, proposal_id: uuid.UUID) -> tuple[BallotKeyShare, int]:
        proposal = await self.visible_proposal(account, proposal_id)
        share = await self.repository.key_share(proposal.id, account.id)
        if share is None:
            raise NotFound("You hold no share of this vote's key.")
        return share, proposal.key_threshold or 1

    async def require_counter(self, account: Account, proposal_id: uuid.UUID) -> None:
        """The chair, or a scrutineer holding a share of this vote's key, may bring shares to count."""
        proposal = await self.visible_proposal(account, proposal_id)
        if account.role == Role.ADMIN:
            return
        if await self.repository.key_share(proposal.id, account.id) is None:
            raise Forbidden("Only the chair or the vote's scrutineers count it.")
