"""Rules of the vault: exports, recovery keys, trusted issuers, imports, the access log.

Conventions, grants and partner reads live in `consent.py`; erasure in `erasure.py`. Nothing here
knows HTTP; nothing here commits (the request does). Other features are read through their services
or the vault's own read-only queries, and changed only through their services.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Protocol

import msgspec
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from app.core.errors import AppError, Conflict, NotFound
from app.db.engine import Database
from app.db.transaction import UnitOfWork
from app.members.schemas import ProfileInput
from app.members.service import MemberService
from app.models import (
    Account,
    VaultCredential,
    VaultExport,
    VaultImport,
    VaultMemberKey,
    VaultRecoveryKey,
    VaultTrustedIssuer,
)
from app.settings import Settings
from app.vault.archive import Limits
from app.vault.credentials import TrustedKeys, VaultSigner
from app.vault.crypto import DataKey, MasterKeys
from app.vault.export import ArchiveBuilder
from app.vault.importer import ImportRefused, VerifiedArchive, verify_archive
from app.vault.repository import VaultRepository
from app.vault.schemas import TrustedIssuerInput

DID_WEB = re.compile(r"^did:web:[A-Za-z0-9.%_-]+(?::[A-Za-z0-9.%_-]+)*$")


class InvalidIssuer(AppError):
    status_code = 422
    slug = "vault-issuer-invalid"
    title = "This is not an issuer's did:web and Ed25519 public keys"


class ExportExpired(AppError):
    status_code = 410
    slug = "vault-export-expired"
    title = "This export has expired: start a new one"


@dataclass(frozen=True)
class ImportResult:
    account: Account
    issuer: str
    records: dict[str, int]
    credentials: int
    skills_not_found: list[str]


class AccountsPort(Protocol):
    """What the vault needs of the accounts feature (its service satisfies it)."""

    async def create_moved_in_member(self, *, email: str, display_name: str) -> Account: ...


class VaultKeys:
    """The member's data key: unwrapped on demand, created on first use."""

    def __init__(self, repository: VaultRepository, master_keys: MasterKeys) -> None:
        self.repository = repository
        self.master_keys = master_keys

    async def data_key(self, account_id: uuid.UUID, *, create: bool) -> DataKey | None:
        row = await self.repository.member_key(account_id)
        if row is None:
            if not create:
                return None
            key = self.master_keys.new_data_key()
            version, wrapped = self.master_keys.wrap(key, account_id)
            await self.repository.add(
                VaultMemberKey(account_id=account_id, master_version=version, wrapped_key=wrapped)
            )
            return key
        return self.master_keys.unwrap(row.master_version, row.wrapped_key, account_id)

    async def rewrap(self, batch: int = 500) -> int:
        """Re-wraps member keys under the current master key version (rotation); returns how many."""
        rows = await self.repository.member_keys_below(self.master_keys.current_version, batch)
        now = datetime.now(UTC)
        for row in rows:
            key = self.master_keys.unwrap(row.master_version, row.wrapped_key, row.account_id)
            row.master_version, row.wrapped_key = self.master_keys.wrap(key, row.account_id)
            row.rotated_at = now
        await self.repository.session.flush()
        return len(rows)


class VaultService:
    def __init__(
        self,
        unit_of_work: UnitOfWork,
        *,
        database: Database,
        settings: Settings,
        signer: VaultSigner,
        master_keys: MasterKeys,
        accounts: AccountsPort,
        members: MemberService,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.repository = VaultRepository(unit_of_work.session)
        self.database = database
        self.settings = settings
        self.signer = signer
        self.master_keys = master_keys
        self.keys = VaultKeys(self.repository, master_keys)
        self.accounts = accounts
        self.members = members

    # -- exports ----------------------------------------------------------------------------------------------

    async def start_export(self, member: Account) -> VaultExport:
        now = datetime.now(UTC)
        export = VaultExport(
            account_id=member.id,
            requested_at=now,
            expires_at=now + timedelta(hours=self.settings.vault_export_ttl_hours),
        )
        await self.repository.add(export)
        await self.repository.log_access(member.id, actor_kind="member", actor_id=member.id, action="export.requested")
        return export

    async def exports(self, member: Account) -> list[VaultExport]:
        return list(await self.repository.exports(member.id))

    async def open_download(self, member: Account, export_id: uuid.UUID) -> VaultExport:
        """The member's own export only: someone else's does not exist for them (404)."""
        export = await self.repository.export(export_id)
        if export is None or export.account_id != member.id:
            raise NotFound()
        if export.expires_at <= datetime.now(UTC):
            raise ExportExpired()
        await self.repository.count_downloads(export.id)
        await self.repository.log_access(
            member.id, actor_kind="member", actor_id=member.id, action="export.downloaded", detail=str(export.id)
        )
        return export

    def archive(self, export: VaultExport) -> AsyncIterator[bytes]:
        """The archive's bytes, read in a session of its own (a repeatable-read snapshot), since the
        response streams after the request's transaction has ended."""
        return archive_stream(
            self.database,
            signer=self.signer,
            master_keys=self.master_keys,
            export_id=export.id,
            member_id=export.account_id,
        )

    # -- the recovery key -------------------------------------------------------------------------------------

    async def recovery_key(self, member: Account) -> VaultRecoveryKey:
        row = await self.repository.recovery_key(member.id)
        if row is None:
            raise NotFound("You have no recovery key yet: POST creates one.")
        return row

    async def create_recovery_key(self, member: Account) -> tuple[VaultRecoveryKey, str]:
        """A new key pair; the private half is returned once and never stored. A new key replaces the
        old one: archives exported before then are proved with the old key."""
        key = OKPKey.generate_key("Ed25519", private=True)
        key.ensure_kid()
        row = await self.repository.recovery_key(member.id)
        public = key.as_dict(private=False)
        if row is None:
            row = VaultRecoveryKey(account_id=member.id, public_jwk=public)
            await self.repository.add(row)
        else:
            row.public_jwk = public
            row.created_at = datetime.now(UTC)
        await self.repository.log_access(
            member.id, actor_kind="member", actor_id=member.id, action="recovery-key.created"
        )
        return row, key.as_pem(private=True).decode()

    # -- trusted issuers ----------------------------------------------------------------------------------------

    async def trusted_keys(self) -> TrustedKeys:
        by_did: dict[str, dict[str, Any]] = {self.signer.did: self.signer.public_jwks()}
        for issuer in await self.repository.trusted_issuers():
            by_did.setdefault(issuer.did, issuer.jwks)
        return TrustedKeys(by_did)

    async def trusted_issuers(self) -> list[VaultTrustedIssuer]:
        return list(await self.repository.trusted_issuers())

    async def add_trusted_issuer(self, admin: Account, data: TrustedIssuerInput) -> VaultTrustedIssuer:
        if not DID_WEB.match(data.did) or not data.keys:
            raise InvalidIssuer("An issuer is named by its did:web (did:web:coop.example) and has keys.")
        for key in data.keys:
            try:
                OKPKey.import_key(msgspec.to_builtins(key))
            except (JoseError, ValueError, TypeError) as error:
                raise InvalidIssuer(f"The key {key.kid} is not an Ed25519 public key.") from error
        if data.did == self.signer.did or await self.repository.trusted_issuer_by_did(data.did):
            raise Conflict("This issuer is already trusted.")
        issuer = VaultTrustedIssuer(
            did=data.did,
            name=data.name,
            jwks={"keys": [msgspec.to_builtins(key) for key in data.keys]},
            created_by=admin.id,
        )
        await self.repository.add(issuer)
        return issuer

    async def remove_trusted_issuer(self, issuer_id: uuid.UUID) -> None:
        issuer = await self.repository.trusted_issuer(issuer_id)
        if issuer is None:
            raise NotFound()
        await self.repository.delete_trusted_issuer(issuer)

    # -- imports ----------------------------------------------------------------------------------------------

    async def import_archive(self, upload: IO[bytes], proof: str | None) -> ImportResult:
        """Verify everything, then create the member (an applicant who must set a password), their
        profile and skills, their credentials (attested, with their issuer) and their history."""
        limits = Limits(
            max_unpacked_bytes=self.settings.vault_import_max_unpacked_bytes,
            max_entry_bytes=self.settings.vault_import_max_unpacked_bytes,
        )
        verified = verify_archive(
            upload, limits=limits, trusted=await self.trusted_keys(), proof=proof, audience=self.signer.did
        )
        if verified.issuer == self.signer.did:
            raise ImportRefused("This archive was exported by this cooperative: nothing to move.")
        profile_input, skills_not_found = await self._profile_input(verified)
        account = await self.accounts.create_moved_in_member(
            email=verified.account.email, display_name=verified.account.display_name
        )
        if profile_input is not None:
            await self.members.save_profile(account, profile_input)
        key = await self.keys.data_key(account.id, create=True)
        assert key is not None
        imported = VaultImport(
            account_id=account.id,
            issuer=verified.issuer,
            subject=verified.manifest.subject.id,
            manifest_sha256=verified.manifest_sha256,
        )
        await self.repository.add(imported)
        counts: dict[str, int] = {}
        encoder = msgspec.json.Encoder()
        for name, rows in verified.sections.items():
            batch = []
            for position, row in enumerate(rows):
                record_id = uuid.uuid4()
                batch.append(
                    {
                        "id": record_id,
                        "account_id": account.id,
                        "import_id": imported.id,
                        "section": name,
                        "position": position,
                        "ciphertext": key.seal(encoder.encode(row), table="vault_record", row_id=record_id),
                    }
                )
            await self.repository.add_records(batch)
            counts[name] = len(rows)
        for file_name, issuer, kind, token, _ in verified.credentials:
            credential_id = uuid.uuid4()
            await self.repository.add(
                VaultCredential(
                    id=credential_id,
                    account_id=account.id,
                    import_id=imported.id,
                    issuer=issuer,
                    kind=kind,
                    file_name=file_name,
                    ciphertext=key.seal(token.encode(), table="vault_credential", row_id=credential_id),
                )
            )
        await self.repository.log_access(
            account.id, actor_kind="member", actor_id=account.id, action="import", detail=verified.issuer
        )
        return ImportResult(
            account=account,
            issuer=verified.issuer,
            records=counts,
            credentials=len(verified.credentials),
            skills_not_found=skills_not_found,
        )

    async def _profile_input(self, verified: VerifiedArchive) -> tuple[ProfileInput | None, list[str]]:
        profile = verified.profile
        if profile is None:
            return None, []
        # Only declared skills: the attested ones arrive as credentials and stay attested by their issuer.
        declared = [s for s in profile.skills if s.declared]
        ids = await self.repository.skills_by_slug([s.slug for s in declared])
        missing = sorted(s.slug for s in declared if s.slug not in ids)
        body = msgspec.to_builtins(profile)
        body["skills"] = [
            {"skill_id": str(ids[s.slug]), "level": s.level, "years": s.years} for s in declared if s.slug in ids
        ]
        try:
            return msgspec.convert(body, ProfileInput), missing
        except msgspec.ValidationError as error:
            raise ImportRefused(f"profile.json: {str(error)[:200]}") from error

    async def credentials(self, member: Account) -> list[VaultCredential]:
        return list(await self.repository.credentials(member.id))

    # -- the access log ---------------------------------------------------------------------------------------

    async def access_log(self, member: Account, *, limit: int, offset: int) -> tuple[list[Any], int]:
        return await self.repository.access_log(member.id, limit=limit, offset=offset)


async def archive_stream(
    database: Database,
    *,
    signer: VaultSigner,
    master_keys: MasterKeys,
    export_id: uuid.UUID,
    member_id: uuid.UUID,
) -> AsyncIterator[bytes]:
    async with database.sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        builder = ArchiveBuilder(
            UnitOfWork(session), signer=signer, master_keys=master_keys, export_id=export_id, member_id=member_id
        )
        async for chunk in builder.stream():
            if chunk:
                yield chunk
        await session.rollback()
