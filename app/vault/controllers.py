"""HTTP surface of the vault: /api/v1/me/vault (exports, recovery key, credentials, access log, grants,
consent receipts), /api/v1/vault (imports, trusted issuers, partners, conventions, the partners' OAuth
token endpoint and reads) and /.well-known/did.json."""

from __future__ import annotations

import tempfile
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.accounts.guards import admin_only, member_or_admin
from app.core.errors import PROBLEM_BASE, AppError, problem_response
from app.core.problems import problems
from app.core.request_checks import ACCEPTS_FORM
from app.core.schemas import Limit, Offset, Page
from app.models import (
    Account,
    VaultConsentReceipt,
    VaultConvention,
    VaultExport,
    VaultGrant,
    VaultPartner,
    VaultTrustedIssuer,
)
from app.vault.consent import ConsentService
from app.vault.erasure import ErasureService
from app.vault.guards import vault_member
from app.vault.oauth import TokenRequest
from app.vault.schemas import (
    AccessLogOut,
    ConventionInput,
    ConventionOut,
    CredentialOut,
    ErasureConfirmationInput,
    ErasureConfirmationOut,
    ErasureInput,
    ErasureOut,
    ExportOut,
    GrantInput,
    GrantOut,
    ImportOut,
    PartnerInput,
    PartnerOut,
    ReceiptOut,
    RecoveryKeyOut,
    Scope,
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


class MyErasureController(Controller):
    path = "/api/v1/me/vault"
    tags = ["vault"]
    guards = [vault_member]

    @post(
        "/erasure/confirmation",
        status_code=HTTP_201_CREATED,
        summary="Confirm with your password that you want your data erased; the confirmation lasts ten minutes",
        responses=problems(401, 403, 413),
    )
    async def confirm_erasure(
        self,
        data: JSONBody[ErasureConfirmationInput],
        current_account: NamedDependency[Account],
        erasure: NamedDependency[ErasureService],
    ) -> ErasureConfirmationOut:
        confirmation, expires_at = await erasure.confirmation(current_account, data.password)
        return ErasureConfirmationOut(confirmation=confirmation, expires_at=expires_at)

    @post(
        "/erasure",
        status_code=HTTP_200_OK,
        summary="Erase your personal data everywhere and get the erasure certificate",
        description=(
            "Cannot be undone. Destroys your name, email, password, profile, texts and vault, and your data key; "
            "keeps pseudonymously what the law requires, as the signed certificate says (what, why, until when). "
            "Export your vault first if you want to keep it."
        ),
        responses=problems(401, 403, 409, 413),
    )
    async def erase(
        self,
        data: JSONBody[ErasureInput],
        current_account: NamedDependency[Account],
        erasure: NamedDependency[ErasureService],
    ) -> ErasureOut:
        return ErasureOut(certificate=await erasure.erase(current_account, data.confirmation))


class VaultImportsController(Controller):
    path = "/api/v1/vault"
    tags = ["vault"]

    @post(
        "/imports",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        opt={ACCEPTS_FORM: True},  # the body is the zip archive itself, not JSON
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


def partner_out(partner: VaultPartner, secret: str | None = None) -> PartnerOut:
    return PartnerOut(
        id=partner.id,
        name=partner.name,
        kind=partner.kind,
        client_id=partner.client_id,
        created_at=partner.created_at,
        client_secret=secret,
    )


def convention_out(convention: VaultConvention, partner: VaultPartner) -> ConventionOut:
    return ConventionOut(
        id=convention.id,
        partner=partner_out(partner),
        title=convention.title,
        categories=list(convention.categories),
        purpose=convention.purpose,
        legal_basis=convention.legal_basis,
        retention_days=convention.retention_days,
        engagements=convention.engagements,
        starts_on=convention.starts_on,
        ends_on=convention.ends_on,
        created_at=convention.created_at,
    )


def grant_out(grant: VaultGrant, receipt: VaultConsentReceipt | None = None) -> GrantOut:
    return GrantOut(
        id=grant.id,
        convention_id=grant.convention_id,
        scopes=list(grant.scopes),
        expires_at=grant.expires_at,
        created_at=grant.created_at,
        revoked_at=grant.revoked_at,
        receipt=receipt.receipt if receipt else None,
    )


class ConventionsController(Controller):
    """Partners and data-sharing conventions: administrators record them, members read them."""

    path = "/api/v1/vault"
    tags = ["vault"]

    @post(
        "/partners",
        guards=[admin_only],
        summary="Register a partner organisation and its OAuth client (the secret is shown once)",
        responses=problems(401, 403, 413),
    )
    async def add_partner(self, data: JSONBody[PartnerInput], consent: NamedDependency[ConsentService]) -> PartnerOut:
        partner, secret = await consent.add_partner(data)
        return partner_out(partner, secret)

    @get("/partners", guards=[admin_only], summary="Partner organisations", responses=problems(401, 403))
    async def partners(self, consent: NamedDependency[ConsentService]) -> list[PartnerOut]:
        return [partner_out(partner) for partner in await consent.partners()]

    @post(
        "/conventions",
        guards=[admin_only],
        summary="Record a data-sharing convention with a partner (categories, purpose, retention, commitments)",
        responses=problems(401, 403, 413, 422),
    )
    async def add_convention(
        self,
        data: JSONBody[ConventionInput],
        current_account: NamedDependency[Account],
        consent: NamedDependency[ConsentService],
    ) -> ConventionOut:
        return convention_out(*await consent.add_convention(current_account, data))

    @get(
        "/conventions",
        guards=[member_or_admin],
        summary="Every data-sharing convention (members and administrators)",
        responses=problems(401, 403),
    )
    async def conventions(self, consent: NamedDependency[ConsentService]) -> list[ConventionOut]:
        return [convention_out(c, p) for c, p in await consent.conventions()]

    @get(
        "/conventions/{convention_id:uuid}",
        guards=[member_or_admin],
        summary="One data-sharing convention",
        responses=problems(401, 403, 404),
    )
    async def convention(
        self, convention_id: FromPath[uuid.UUID], consent: NamedDependency[ConsentService]
    ) -> ConventionOut:
        return convention_out(*await consent.convention(convention_id))


class MyGrantsController(Controller):
    """A member's consents to partners, and their receipts."""

    path = "/api/v1/me/vault"
    tags = ["vault"]
    guards = [vault_member]

    @post(
        "/grants",
        summary="Let a partner read parts of your vault under a convention, until a date",
        description="Answers with the grant and its consent receipt (ISO/IEC TS 27560 fields, signed).",
        responses=problems(401, 403, 404, 413, 422),
    )
    async def grant(
        self,
        data: JSONBody[GrantInput],
        current_account: NamedDependency[Account],
        consent: NamedDependency[ConsentService],
    ) -> GrantOut:
        return grant_out(*await consent.grant(current_account, data))

    @get("/grants", summary="Your grants, live and past", responses=problems(401, 403))
    async def grants(
        self, current_account: NamedDependency[Account], consent: NamedDependency[ConsentService]
    ) -> list[GrantOut]:
        return [grant_out(grant) for grant in await consent.grants(current_account)]

    @post(
        "/grants/{grant_id:uuid}/revoke",
        status_code=HTTP_200_OK,
        summary="Revoke a grant: the partner's next read is refused",
        responses=problems(401, 403, 404, 409),
    )
    async def revoke(
        self,
        grant_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        consent: NamedDependency[ConsentService],
    ) -> GrantOut:
        return grant_out(*await consent.revoke(current_account, grant_id))

    @get("/consent-receipts", summary="Every consent receipt of yours", responses=problems(401, 403))
    async def receipts(
        self, current_account: NamedDependency[Account], consent: NamedDependency[ConsentService]
    ) -> list[ReceiptOut]:
        return [
            ReceiptOut(id=r.id, grant_id=r.grant_id, event=r.event, receipt=r.receipt, created_at=r.created_at)
            for r in await consent.receipts(current_account)
        ]


class PartnerController(Controller):
    """What partners call, with their own OAuth 2.0 tokens (not members' access tokens)."""

    path = "/api/v1/vault"
    tags = ["vault"]
    opt = {"exclude_from_auth": True}

    @post(
        "/oauth/token",
        status_code=HTTP_200_OK,
        opt={ACCEPTS_FORM: True},  # RFC 6749: form-encoded
        summary="OAuth 2.0 client-credentials token for a partner (RFC 6749 section 4.4)",
        description=(
            "Form-encoded (`grant_type=client_credentials`, optional `scope` and `resource`="
            "`urn:coop:convention:<id>`), client authenticated by HTTP Basic or `client_secret`. Errors are "
            "problem documents that also carry RFC 6749's `error` and `error_description`."
        ),
        responses=problems(401, 413),
    )
    async def token(self, request: Request, consent: NamedDependency[ConsentService]) -> Response[dict[str, Any]]:
        body = await request.body()
        outcome = await consent.token(TokenRequest.parse(body, dict(request.headers)))
        headers = {"cache-control": "no-store", "pragma": "no-cache"}
        if outcome.status == 200:
            return Response(outcome.body, status_code=200, headers=headers)
        error = str(outcome.body.get("error", "invalid_request"))
        response = problem_response(
            status=outcome.status,
            type_=PROBLEM_BASE + "oauth-" + error.replace("_", "-"),
            title="The token request is refused",
            detail=str(outcome.body.get("error_description") or error)[:300],
            request=request,
            headers={**headers, **{k: v for k, v in outcome.headers if k.lower() == "www-authenticate"}},
        )
        assert isinstance(response.content, dict)
        response.content.update(error=error, error_description=outcome.body.get("error_description"))
        return response

    @get(
        "/partner/members/{account_id:uuid}/{category:str}",
        summary="A partner reads one scope of a member's vault (a partner token; the member's grant decides)",
        responses=problems(401, 403, 404),
    )
    async def partner_read(
        self,
        request: Request,
        account_id: FromPath[uuid.UUID],
        category: FromPath[Scope],
        consent: NamedDependency[ConsentService],
    ) -> Any:
        access = await consent.partner_access(request.headers.get("authorization"))
        return await consent.partner_read(access, account_id, category)
