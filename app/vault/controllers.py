"""HTTP surface of the vault: /api/v1/me/vault (exports, recovery key, credentials, access log),
/api/v1/vault/imports, /api/v1/vault/trusted-issuers and /.well-known/did.json."""

from __future__ import annotations

import tempfile
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from app.accounts.guards import admin_only
from app.core.errors import AppError
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.models import Account, VaultExport, VaultTrustedIssuer
from app.vault.guards import vault_member
from app.vault.schemas import (
    AccessLogOut,
    CredentialOut,
    ExportOut,
    ImportOut,
    RecoveryKeyOut,
    TrustedIssuerInput,
    TrustedIssuerOut,
)
from app.vault.service import VaultService

ProofHeader = Annotated[
    str | None,
    HeaderParameter(
        name="coop-recovery-proof",
        max_length=4096,
        pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        description="A compact JWS signed with the member's recovery key (see docs/vault.md)",
        required=False,
    ),
]


class UploadTooLarge(AppError):
    status_code = 413
    slug = "payload-too-large"
    title = "The request body is too large"


def export_out(export: VaultExport) -> ExportOut:
    return ExportOut(
        id=export.id,
        requested_at=export.requested_at,
        expires_at=export.expires_at,
        downloads=export.downloads,
        download_url=f"/api/v1/me/vault/exports/{export.id}/archive",
    )


def issuer_out(issuer: VaultTrustedIssuer) -> TrustedIssuerOut:
    return TrustedIssuerOut(
        id=issuer.id, did=issuer.did, name=issuer.name, keys=issuer.jwks.get("keys", []), created_at=issuer.created_at
    )


class MyVaultController(Controller):
    path = "/api/v1/me/vault"
    tags = ["vault"]
    guards = [vault_member]

    @post(
        "/exports",
        status_code=HTTP_201_CREATED,
        summary="Start an export of everything the cooperative holds about you",
        description="Download it from `download_url` (a signed zip, built as it streams) until it expires.",
        responses=problems(401, 403),
    )
    async def start_export(
        self, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> ExportOut:
        return export_out(await vault.start_export(current_account))

    @get("/exports", summary="Your exports", responses=problems(401, 403))
    async def exports(
        self, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> list[ExportOut]:
        return [export_out(export) for export in await vault.exports(current_account)]

    @get(
        "/exports/{export_id:uuid}/archive",
        summary="Download an export: a zip with a signed manifest, open formats and verifiable credentials",
        media_type="application/zip",
        responses=problems(401, 403, 404, 410),
    )
    async def download(
        self,
        export_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        vault: NamedDependency[VaultService],
    ) -> Stream:
        export = await vault.open_download(current_account, export_id)
        name = f"coop-vault-{export.requested_at:%Y%m%d}-{str(export.id)[:8]}.zip"
        return Stream(
            vault.archive(export),
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
        )

    @get("/recovery-key", summary="The public half of your recovery key", responses=problems(401, 403, 404))
    async def recovery_key(
        self, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> RecoveryKeyOut:
        row = await vault.recovery_key(current_account)
        return RecoveryKeyOut(public_jwk=row.public_jwk, created_at=row.created_at)

    @post(
        "/recovery-key",
        status_code=HTTP_201_CREATED,
        summary="Create (or replace) your recovery key; its private half is shown this once",
        description="Keep the private key: it proves an archive is yours, even if this cooperative is gone.",
        responses=problems(401, 403),
    )
    async def create_recovery_key(
        self, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> RecoveryKeyOut:
        row, private_pem = await vault.create_recovery_key(current_account)
        return RecoveryKeyOut(public_jwk=row.public_jwk, created_at=row.created_at, private_key_pem=private_pem)

    @get(
        "/credentials",
        summary="Credentials other cooperatives issued to you, verified when you moved in",
        responses=problems(401, 403),
    )
    async def credentials(
        self, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> list[CredentialOut]:
        return [
            CredentialOut(id=c.id, issuer=c.issuer, kind=c.kind, file_name=c.file_name, verified_at=c.verified_at)
            for c in await vault.credentials(current_account)
        ]

    @get("/access-log", summary="Every access to your vault, newest first", responses=problems(401, 403))
    async def access_log(
        self,
        current_account: NamedDependency[Account],
        vault: NamedDependency[VaultService],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AccessLogOut]:
        rows, total = await vault.access_log(current_account, limit=limit, offset=offset)
        return Page(items=[AccessLogOut(**dict(row)) for row in rows], total=total, limit=limit, offset=offset)


class VaultImportsController(Controller):
    path = "/api/v1/vault"
    tags = ["vault"]

    @post(
        "/imports",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        summary="Move in with an archive exported by another cooperative",
        description=(
            "The body is the archive itself (`Content-Type: application/zip`), with the header "
            "`Coop-Recovery-Proof`. Its manifest must be signed by a trusted issuer and every file must match "
            "it; the account is created as an applicant whose password is set through the mailed reset link. "
            "Any refusal is a problem document and writes nothing."
        ),
        responses=problems(401, 409, 413, 422),
    )
    async def import_archive(
        self,
        request: Request,
        state: State,
        vault: NamedDependency[VaultService],
        proof: ProofHeader = None,
    ) -> ImportOut:
        limit = state.settings.vault_import_max_bytes
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as upload:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(f"An archive is at most {limit} bytes.")
                upload.write(chunk)
            upload.seek(0)
            result = await vault.import_archive(upload, proof)  # type: ignore[arg-type]
        return ImportOut(
            account_id=result.account.id,
            email=result.account.email,
            issuer=result.issuer,
            member_status=result.account.member_status or "",
            records=result.records,
            credentials=result.credentials,
            skills_not_found=result.skills_not_found,
        )

    @get(
        "/trusted-issuers",
        guards=[admin_only],
        summary="Cooperatives whose archives and credentials are accepted (administrators)",
        responses=problems(401, 403),
    )
    async def trusted_issuers(self, vault: NamedDependency[VaultService]) -> list[TrustedIssuerOut]:
        return [issuer_out(issuer) for issuer in await vault.trusted_issuers()]

    @post(
        "/trusted-issuers",
        guards=[admin_only],
        summary="Trust another cooperative's public keys (its did:web and JWKS)",
        responses=problems(401, 403, 409, 413, 422),
    )
    async def add_trusted_issuer(
        self,
        data: JSONBody[TrustedIssuerInput],
        current_account: NamedDependency[Account],
        vault: NamedDependency[VaultService],
    ) -> TrustedIssuerOut:
        return issuer_out(await vault.add_trusted_issuer(current_account, data))

    @delete(
        "/trusted-issuers/{issuer_id:uuid}",
        guards=[admin_only],
        summary="Stop trusting an issuer (what was imported stays)",
        responses=problems(401, 403, 404),
    )
    async def remove_trusted_issuer(self, issuer_id: FromPath[uuid.UUID], vault: NamedDependency[VaultService]) -> None:
        await vault.remove_trusted_issuer(issuer_id)


class DidController(Controller):
    path = "/.well-known"
    tags = ["vault"]
    opt = {"exclude_from_auth": True}

    @get(
        "/did.json",
        summary="The cooperative's did:web DID document: the keys that sign archives and credentials",
        media_type="application/did+json",
    )
    async def did_document(self, state: State) -> dict[str, Any]:
        return state.vault_signer.did_document()
