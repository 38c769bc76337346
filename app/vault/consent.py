"""Sharing under conventions: partners, data-sharing conventions, members' grants and their consent
receipts (ISO/IEC TS 27560 fields), partner tokens, and what a partner may read.

A partner reads a member's data only when all of these hold at the moment of the read: its token is
live and carries the scope; the token's convention is in force and lists the scope; the member's grant
under that convention is neither revoked nor expired and names the scope. Revoking a grant therefore
takes effect at the partner's next request. Every read is written to the member's access log.

Nothing here knows HTTP; nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec

from app.core.errors import AppError, Conflict, InvalidToken, NotFound
from app.core.sealing import MasterKeys, MemberKeyRing
from app.db.transaction import UnitOfWork
from app.members.service import MemberService
from app.models import Account, VaultConsentReceipt, VaultConvention, VaultGrant, VaultPartner, VaultPartnerToken
from app.vault import records
from app.vault.credentials import VaultSigner, canonical_json, iso
from app.vault.export import opened_rows, profile_file, subject_id
from app.vault.oauth import PartnerClient, TokenOutcome, TokenRequest, hash_secret, issue_token, new_secret
from app.vault.repository import VaultRepository
from app.vault.schemas import ConventionInput, GrantInput, PartnerInput

TOKEN_SECONDS = 3600
# What each scope lets a partner read: the profile, or rows of the archive's sections.
SCOPE_SECTIONS: dict[str, tuple[str, ...]] = {
    "profile": (),
    "skills": (),
    "engagements": ("engagements",),
    "reviews_received": ("reviews_received",),
    "applications": ("applications",),
    "assembly_participation": ("assembly_attendance", "ballot_receipts"),
}


class GrantRefused(AppError):
    status_code = 422
    slug = "vault-grant-refused"
    title = "This grant does not fit its convention"


class ConventionRefused(AppError):
    status_code = 422
    slug = "vault-convention-invalid"
    title = "This convention is not valid"


class InsufficientScope(AppError):
    status_code = 403
    slug = "insufficient-scope"
    title = "The token does not allow this read, or the member's consent does not (any more)"


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class PartnerAccess:
    token: VaultPartnerToken
    convention: VaultConvention
    partner: VaultPartner


class ConsentService:
    def __init__(
        self, unit_of_work: UnitOfWork, *, signer: VaultSigner, members: MemberService, master_keys: MasterKeys
    ) -> None:
        self.repository = VaultRepository(unit_of_work.session)
        self.signer = signer
        self.members = members
        # Applications' messages and reviews' texts are sealed under their author's key (read only here).
        self.keys = MemberKeyRing(unit_of_work.session, master_keys)

    # -- partners and conventions (administrators) ---------------------------------------------------------------

    async def add_partner(self, data: PartnerInput) -> tuple[VaultPartner, str]:
        secret = new_secret()
        partner = VaultPartner(
            name=data.name,
            kind=data.kind,
            client_id="partner-" + uuid.uuid4().hex,
            client_secret_hash=hash_secret(secret),
        )
        await self.repository.add(partner)
        return partner, secret

    async def partners(self) -> list[VaultPartner]:
        return list(await self.repository.partners())

    async def add_convention(self, admin: Account, data: ConventionInput) -> tuple[VaultConvention, VaultPartner]:
        partner = await self.repository.partner(data.partner_id)
        if partner is None:
            raise ConventionRefused("No such partner: register it first.")
        if data.ends_on < data.starts_on or not data.categories:
            raise ConventionRefused("A convention lists its categories and ends on or after its start.")
        convention = VaultConvention(
            partner_id=partner.id,
            title=data.title,
            categories=sorted(set(data.categories)),
            purpose=data.purpose,
            legal_basis=data.legal_basis,
            retention_days=data.retention_days,
            engagements=msgspec.to_builtins(data.engagements),
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            created_by=admin.id,
        )
        await self.repository.add(convention)
        return convention, partner

    async def conventions(self) -> list[tuple[VaultConvention, VaultPartner]]:
        return list(await self.repository.conventions())

    async def convention(self, convention_id: uuid.UUID) -> tuple[VaultConvention, VaultPartner]:
        convention = await self.repository.convention(convention_id)
        if convention is None:
            raise NotFound()
        partner = await self.repository.partner(convention.partner_id)
        assert partner is not None
        return convention, partner

    # -- grants and receipts (members) ----------------------------------------------------------------------------

    async def grant(self, member: Account, data: GrantInput) -> tuple[VaultGrant, VaultConsentReceipt]:
        convention, partner = await self.convention(data.convention_id)
        now = datetime.now(UTC)
        scopes = sorted(set(data.scopes))
        if not scopes or not set(scopes) <= set(convention.categories):
            raise GrantRefused(f"Choose scopes among the convention's categories: {', '.join(convention.categories)}.")
        if data.expires_at.tzinfo is None:
            raise GrantRefused("Give the end of the grant with its time zone.")
        if not now < data.expires_at <= end_of(convention.ends_on) or now >= end_of(convention.ends_on):
            raise GrantRefused("A grant ends in the future, and no later than its convention.")
        grant = VaultGrant(account_id=member.id, convention_id=convention.id, scopes=scopes, expires_at=data.expires_at)
        await self.repository.add(grant)
        receipt = await self._receipt(member, grant, convention, partner, "given", now)
        return grant, receipt

    async def revoke(self, member: Account, grant_id: uuid.UUID) -> tuple[VaultGrant, VaultConsentReceipt]:
        grant = await self.repository.grant(grant_id)
        if grant is None or grant.account_id != member.id:
            raise NotFound()
        if grant.revoked_at is not None:
            raise Conflict("This grant is already revoked.")
        now = datetime.now(UTC)
        grant.revoked_at = now
        convention, partner = await self.convention(grant.convention_id)
        receipt = await self._receipt(member, grant, convention, partner, "withdrawn", now)
        return grant, receipt

    async def grants(self, member: Account) -> list[VaultGrant]:
        return list(await self.repository.grants(member.id))

    async def receipts(self, member: Account) -> list[VaultConsentReceipt]:
        return list(await self.repository.receipts(member.id))

    async def _receipt(
        self,
        member: Account,
        grant: VaultGrant,
        convention: VaultConvention,
        partner: VaultPartner,
        event: str,
        at: datetime,
    ) -> VaultConsentReceipt:
        """A consent record with the information ISO/IEC TS 27560 lists, signed by the cooperative."""
        receipt_id = uuid.uuid4()
        record: dict[str, Any] = {
            "schema_version": "ISO/IEC TS 27560:2023",
            "record_id": f"urn:uuid:{receipt_id}",
            "consent_id": f"urn:uuid:{grant.id}",
            "event": {"type": event, "time": iso(at), "method": "API, authenticated by the member"},
            "pii_principal": {"id": subject_id(member.id)},
            "pii_controller": {"name": self.signer.name, "id": self.signer.did, "url": self.signer.url},
            "recipients": [
                {"name": partner.name, "kind": partner.kind, "role": "third party", "id": partner.client_id}
            ],
            "notice": {
                "id": f"urn:uuid:{convention.id}",
                "title": convention.title,
                "valid_from": convention.starts_on.isoformat(),
                "valid_until": convention.ends_on.isoformat(),
            },
            "purposes": [
                {
                    "purpose": convention.purpose,
                    "legal_basis": convention.legal_basis,
                    "pii_categories": list(grant.scopes),
                    "processing": ["read"],
                    "retention": f"P{convention.retention_days}D",
                    "storage_location": convention.engagements.get("hosting"),
                    "recipient_commitments": convention.engagements,
                }
            ],
            "consent_type": "explicit",
            "state": "given" if event == "given" else "withdrawn",
            "expiry": iso(grant.expires_at),
            "withdrawal": f"POST /api/v1/me/vault/grants/{grant.id}/revoke (effective at once)",
            "jurisdiction": "EU (GDPR Art. 6(1)(a), 7)",
        }
        record["proof"] = self.signer.sign(canonical_json(record), "coop-consent-receipt+jws")
        receipt = VaultConsentReceipt(
            id=receipt_id, grant_id=grant.id, account_id=member.id, event=event, receipt=record
        )
        await self.repository.add(receipt)
        return receipt

    # -- partners' tokens and reads ------------------------------------------------------------------------------

    async def token(self, request: TokenRequest) -> TokenOutcome:
        client_id = request.client_id()
        partner = await self.repository.partner_by_client_id(client_id) if client_id else None
        convention = None
        today = datetime.now(UTC).date()
        if partner is not None:
            convention = await self._partner_convention(partner, request.resource, today)
        client = None
        if partner is not None:
            allowed = frozenset(convention.categories) if convention else frozenset()
            client = PartnerClient(partner.client_id, partner.client_secret_hash, allowed)
            if convention is not None and not request.form.get("scope"):
                request.form["scope"] = " ".join(sorted(allowed))
        expires_in = TOKEN_SECONDS
        if convention is not None:
            left = int((end_of(convention.ends_on) - datetime.now(UTC)).total_seconds())
            expires_in = max(1, min(TOKEN_SECONDS, left))
        outcome = issue_token(request, client, expires_in=expires_in, issuer=self.signer.url)
        if outcome.token is not None:
            if convention is None or not outcome.scopes:
                # Authenticated, but no convention in force or no scope it covers: no token.
                return TokenOutcome(
                    400, {"error": "invalid_scope", "error_description": "No convention in force covers it."}, []
                )
            await self.repository.add(
                VaultPartnerToken(
                    token_hash=hash_secret(outcome.token),
                    partner_id=partner.id,  # type: ignore[union-attr]
                    convention_id=convention.id,
                    scopes=outcome.scopes,
                    expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
                )
            )
        return outcome

    async def _partner_convention(
        self, partner: VaultPartner, resource: str | None, today: date
    ) -> VaultConvention | None:
        in_force = [
            c
            for c, p in await self.repository.conventions()
            if p.id == partner.id and c.starts_on <= today <= c.ends_on
        ]
        if resource:
            wanted = resource.removeprefix("urn:coop:convention:")
            return next((c for c in in_force if str(c.id) == wanted), None)
        return in_force[0] if len(in_force) == 1 else None

    async def partner_access(self, authorization: str | None) -> PartnerAccess:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("Send the partner's access token: `Authorization: Bearer <token>`.")
        row = await self.repository.partner_token(hash_secret(token.strip()))
        now = datetime.now(UTC)
        if row is None or row.expires_at <= now:
            raise InvalidToken()
        convention = await self.repository.convention(row.convention_id)
        partner = await self.repository.partner(row.partner_id)
        if (
            convention is None
            or partner is None
            or not start_of(convention.starts_on) <= now < end_of(convention.ends_on)
        ):
            raise InvalidToken("The convention of this token is not in force.")
        return PartnerAccess(token=row, convention=convention, partner=partner)

    async def partner_read(self, access: PartnerAccess, member_id: uuid.UUID, scope: str) -> Any:
        now = datetime.now(UTC)
        grant = await self.repository.active_grant(member_id, access.convention.id, now)
        if (
            scope not in access.token.scopes
            or scope not in access.convention.categories
            or grant is None
            or scope not in grant.scopes
        ):
            raise InsufficientScope()
        await self.repository.log_access(
            member_id,
            actor_kind="partner",
            partner_id=access.partner.id,
            action=f"read:{scope}",
            detail=access.convention.title,
        )
        if scope in ("profile", "skills"):
            account = await self.repository.account(member_id)
            assert account is not None
            try:
                profile = profile_file(await self.members.own_profile(account))
            except NotFound:
                profile = None
            if profile is None:
                return None
            if scope == "skills":
                return msgspec.to_builtins(profile.skills)
            return msgspec.to_builtins(msgspec.structs.replace(profile, skills=[]))
        result: dict[str, list[Any]] = {}
        for section in SCOPE_SECTIONS[scope]:
            row_type = records.SECTION_BY_NAME[section].row
            rows: list[Any] = []
            async for batch in self.repository.stream_section(section, member_id):
                opened = await opened_rows(self.keys, section, member_id, batch)
                rows.extend(msgspec.to_builtins(row_type(**row)) for row in opened)
            result[section] = rows
        return result
