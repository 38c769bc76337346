"""Data vault pages: a member's exports, recovery key, grants to partners with their consent receipts,
access log and erasure; the conventions (members read them, administrators record them); importing
an archive from another cooperative.

Every page calls the vault feature's services (`VaultService`, `ConsentService`, `ErasureService`)
as its API controllers do; forms are validated by the feature's own schemas.
"""

from __future__ import annotations

import base64
import json
import tempfile
import uuid
from datetime import UTC, date, datetime, time
from typing import Any, get_args

from litestar import Controller, Request, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.guards import admin_only, member_or_admin
from app.core.errors import AppError, NotFound
from app.models import Account, Role
from app.vault.consent import ConsentService
from app.vault.erasure import ErasureService
from app.vault.guards import vault_member
from app.vault.schemas import ConventionInput, GrantInput, PartnerInput, Scope
from app.vault.service import VaultService
from app.web.forms import clean, convert, form_data, optional_int
from app.web.i18n import DISPLAY_TIMEZONE, N_, gettext
from app.web.labels import LABELS
from app.web.pages.refusals import refused
from app.web.rendering import FormRejected, field_errors, page, redirect

Id = FromPath[uuid.UUID]
PAGE_SIZE = 50
VAULT_TEMPLATE = "vault/index.html"
CONVENTIONS_TEMPLATE = "vault/conventions.html"
ERASURE_TEMPLATE = "vault/erasure.html"
IMPORT_TEMPLATE = "vault/import.html"
NO_STORE = {"cache-control": "no-store"}
# A browser upload is read into a spooled file; the service's own limit (settings) is checked as it is read.
UPLOAD_CEILING = 256 * 1024 * 1024
SCOPES: tuple[str, ...] = get_args(Scope)  # the feature's own list of what a partner may read

LABELS.update(
    {
        "scope": {
            "profile": N_("profile"),
            "skills": N_("skills"),
            "engagements": N_("engagements"),
            "reviews_received": N_("reviews received"),
            "applications": N_("applications"),
            "assembly_participation": N_("participation in assemblies"),
            "credentials": N_("credentials"),
        },
        "legal_basis": {
            "consent": N_("consent"),
            "contract": N_("contract"),
            "legitimate_interest": N_("legitimate interest"),
            "public_task": N_("public task"),
        },
        "receipt_event": {"given": N_("consent given"), "withdrawn": N_("consent withdrawn")},
    }
)
for _kind, _word in {
    "vault-grant-refused": N_("This grant does not fit its convention."),
    "vault-convention-invalid": N_("This convention is not valid."),
    "vault-export-expired": N_("This export has expired: start a new one."),
    "reauthentication-failed": N_("Confirm with your password first."),
    "vault-import-refused": N_("This archive cannot be imported."),
    "vault-archive-unsafe": N_("This archive is unsafe and was refused."),
    "vault-signature-invalid": N_("The archive's signature is not valid."),
    "vault-issuer-unknown": N_("The cooperative that signed this archive is not trusted here."),
    "vault-archive-tampered": N_("The archive does not match its manifest."),
    "vault-recovery-proof-invalid": N_("The recovery proof is missing or does not match."),
    "payload-too-large": N_("What you sent is too large."),
}.items():
    LABELS["problem"].setdefault(_kind, _word)


def _rejected(template: str, error: AppError, context: dict[str, Any]) -> FormRejected:
    summary, errors = field_errors(error)
    return FormRejected(template, context=context, errors=errors, summary=summary, status=error.status_code)


def _end_of_day(text: str) -> str | None:
    """A date typed in the form, as the last second of that day in Paris (the schema wants a time zone)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return datetime.combine(day, time(23, 59, 59), tzinfo=DISPLAY_TIMEZONE).astimezone(UTC).isoformat()


def pretty(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True, default=str)


class VaultPages(Controller):
    path = "/vault"
    include_in_schema = False

    async def _vault_context(self, account: Account, vault: VaultService, consent: ConsentService) -> dict[str, Any]:
        try:
            recovery = await vault.recovery_key(account)
        except NotFound:
            recovery = None
        conventions = await consent.conventions()
        titles = {convention.id: convention.title for convention, _ in conventions}
        today = datetime.now(UTC).date()
        return {
            "exports": await vault.exports(account),
            "recovery": recovery,
            "grants": await consent.grants(account),
            "credentials": await vault.credentials(account),
            "conventions": [(c, p) for c, p in conventions if c.starts_on <= today <= c.ends_on],
            "titles": titles,
            "now": datetime.now(UTC),
            "scopes": SCOPES,
        }

    @get("/", guards=[vault_member])
    async def index(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        vault: NamedDependency[VaultService],
        consent: NamedDependency[ConsentService],
    ) -> Template:
        return page(request, VAULT_TEMPLATE, **await self._vault_context(current_account, vault, consent))

    # -- exports and the recovery key ------------------------------------------------------------------------

    @post("/exports", guards=[vault_member])
    async def start_export(
        self, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> Redirect:
        await vault.start_export(current_account)
        return redirect("/vault#exports", "done")

    @get("/exports/{export_id:uuid}/archive", guards=[vault_member])
    async def download(
        self, export_id: Id, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> Stream:
        export = await vault.open_download(current_account, export_id)
        name = f"coop-vault-{export.requested_at:%Y%m%d}-{str(export.id)[:8]}.zip"
        return Stream(
            vault.archive(export),
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{name}"', **NO_STORE},
        )

    @post("/recovery-key", guards=[vault_member])
    async def create_recovery_key(
        self, request: Request, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> Template:
        row, private_pem = await vault.create_recovery_key(current_account)
        # Shown once in this answer, never stored: a redirect would lose it.
        response = page(request, "vault/recovery_key.html", row=row, private_pem=private_pem)
        response.headers.update(NO_STORE)
        return response

    # -- grants to partners ------------------------------------------------------------------------------------

    @post("/grants", guards=[vault_member])
    async def grant(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        vault: NamedDependency[VaultService],
        consent: NamedDependency[ConsentService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, multi = await form_data(request)
        try:
            expires_at = _end_of_day(values.get("expires_on", ""))
            if expires_at is None:
                raise FormRejected(VAULT_TEMPLATE, errors={"expires_on": gettext("Give a date.")})
            body = {
                "convention_id": values.get("convention_id", ""),
                "scopes": multi.get("scopes", []),
                "expires_at": expires_at,
            }
            data = convert(body, GrantInput, VAULT_TEMPLATE, {})
            await consent.grant(current_account, data)
        except (AppError, FormRejected) as error:
            raise await refused(
                db_session,
                VAULT_TEMPLATE,
                error,
                lambda: self._vault_context(current_account, vault, consent),
                values=values,
                chosen=multi.get("scopes", []),
            ) from error
        return redirect("/vault/receipts", "done")

    @post("/grants/{grant_id:uuid}/revoke", guards=[vault_member])
    async def revoke(
        self, grant_id: Id, current_account: NamedDependency[Account], consent: NamedDependency[ConsentService]
    ) -> Redirect:
        await consent.revoke(current_account, grant_id)
        return redirect("/vault#grants", "done")

    @get("/receipts", guards=[vault_member])
    async def receipts(
        self, request: Request, current_account: NamedDependency[Account], consent: NamedDependency[ConsentService]
    ) -> Template:
        rows = [(receipt, pretty(receipt.receipt)) for receipt in await consent.receipts(current_account)]
        return page(request, "vault/receipts.html", rows=rows)

    @get("/access-log", guards=[vault_member])
    async def access_log(
        self, request: Request, current_account: NamedDependency[Account], vault: NamedDependency[VaultService]
    ) -> Template:
        offset = max(0, min(optional_int(request.query_params.get("offset")) or 0, 100_000))
        rows, total = await vault.access_log(current_account, limit=PAGE_SIZE, offset=offset)
        return page(request, "vault/access_log.html", rows=rows, total=total, offset=offset, page_size=PAGE_SIZE)

    # -- conventions --------------------------------------------------------------------------------------------

    async def _conventions_context(self, account: Account, consent: ConsentService) -> dict[str, Any]:
        return {
            "conventions": await consent.conventions(),
            "partners": await consent.partners() if account.role == Role.ADMIN else [],
            "scopes": SCOPES,
            "chosen": [],
        }

    @get("/conventions", guards=[member_or_admin])
    async def conventions(
        self, request: Request, current_account: NamedDependency[Account], consent: NamedDependency[ConsentService]
    ) -> Template:
        return page(request, CONVENTIONS_TEMPLATE, **await self._conventions_context(current_account, consent))

    @post("/partners", guards=[admin_only])
    async def add_partner(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        consent: NamedDependency[ConsentService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        values, _ = await form_data(request)
        body = {"name": values.get("name", "").strip(), "kind": values.get("kind", "").strip()}
        try:
            data = convert(body, PartnerInput, CONVENTIONS_TEMPLATE, {})
            partner, secret = await consent.add_partner(data)
        except (AppError, FormRejected) as error:
            raise await refused(
                db_session,
                CONVENTIONS_TEMPLATE,
                error,
                lambda: self._conventions_context(current_account, consent),
                values=values,
            ) from error
        response = page(request, "vault/partner_created.html", partner=partner, secret=secret)
        response.headers.update(NO_STORE)
        return response

    @post("/conventions", guards=[admin_only])
    async def add_convention(
        self,
        request: Request,
        current_account: NamedDependency[Account],
        consent: NamedDependency[ConsentService],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect:
        values, multi = await form_data(request)
        body = {
            "partner_id": values.get("partner_id", ""),
            "title": values.get("title", "").strip(),
            "categories": multi.get("categories", []),
            "purpose": values.get("purpose", "").replace("\r\n", "\n").strip(),
            "legal_basis": values.get("legal_basis", "consent"),
            "retention_days": optional_int(values.get("retention_days")) or 0,
            "engagements": {
                "no_resale": values.get("no_resale") == "yes",
                "deletion_at_end": values.get("deletion_at_end") == "yes",
                "hosting": values.get("hosting", "").strip(),
                "other": values.get("other", "").replace("\r\n", "\n").strip(),
            },
            "starts_on": values.get("starts_on", ""),
            "ends_on": values.get("ends_on", ""),
        }
        try:
            data = convert(body, ConventionInput, CONVENTIONS_TEMPLATE, {})
            await consent.add_convention(current_account, data)
        except (AppError, FormRejected) as error:
            raise await refused(
                db_session,
                CONVENTIONS_TEMPLATE,
                error,
                lambda: self._conventions_context(current_account, consent),
                values=values,
                chosen=multi.get("categories", []),
            ) from error
        return redirect("/vault/conventions", "saved")

    # -- erasure: a password, then a confirmation step, then the certificate ---------------------------------

    @get("/erasure", guards=[vault_member])
    async def erasure(self, request: Request) -> Template:
        return page(request, ERASURE_TEMPLATE, step="password")

    @post("/erasure/confirm", guards=[vault_member])
    async def confirm_erasure(
        self, request: Request, current_account: NamedDependency[Account], erasure: NamedDependency[ErasureService]
    ) -> Template:
        values, _ = await form_data(request)
        try:
            confirmation, expires_at = await erasure.confirmation(current_account, values.get("password", ""))
        except AppError as error:
            rejected = _rejected(ERASURE_TEMPLATE, error, {"step": "password"})
            rejected.errors = {"password": gettext("The password is wrong.")}
            raise rejected from error
        response = page(request, ERASURE_TEMPLATE, step="confirm", confirmation=confirmation, expires_at=expires_at)
        response.headers.update(NO_STORE)
        return response

    @post("/erasure", guards=[vault_member])
    async def erase(
        self, request: Request, current_account: NamedDependency[Account], erasure: NamedDependency[ErasureService]
    ) -> Template:
        values, _ = await form_data(request)
        try:
            certificate = await erasure.erase(current_account, values.get("confirmation", ""))
        except AppError as error:
            raise _rejected(ERASURE_TEMPLATE, error, {"step": "password"}) from error
        document = pretty(certificate)
        # The only copy the person gets: they can no longer sign in, and no service reads the cooperative's
        # own copy back. A data: link saves it as a file with no script and no further request.
        download = "data:application/json;charset=utf-8;base64," + base64.b64encode(document.encode()).decode()
        response = page(
            request,
            "vault/erased.html",
            certificate=certificate,
            certificate_json=document,
            certificate_download=download,
            certificate_name=f"erasure-certificate-{str(certificate['completed_at'])[:10]}.json",
        )
        response.headers.update(NO_STORE)
        return response

    # -- moving in from another cooperative ------------------------------------------------------------------

    @get("/import")
    async def import_form(self, request: Request) -> Template:
        return page(request, IMPORT_TEMPLATE)

    @post("/import", request_max_body_size=UPLOAD_CEILING)
    async def import_archive(self, request: Request, state: State, vault: NamedDependency[VaultService]) -> Template:
        form = await request.form()
        upload = form.get("archive")
        proof = clean(form.get("proof") if isinstance(form.get("proof"), str) else "", 4096).strip()
        context: dict[str, Any] = {"values": {"proof": proof}}
        if not isinstance(upload, UploadFile):
            raise FormRejected(
                IMPORT_TEMPLATE, context=context, errors={"archive": gettext("Choose the archive file.")}
            )
        limit = state.settings.vault_import_max_bytes
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            size = 0
            while chunk := await upload.read(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FormRejected(
                        IMPORT_TEMPLATE,
                        context=context,
                        errors={"archive": gettext("An archive is at most %(size)s bytes.", size=limit)},
                        status=413,
                    )
                spool.write(chunk)
            spool.seek(0)
            try:
                result = await vault.import_archive(spool, proof or None)  # type: ignore[arg-type]
            except AppError as error:
                raise _rejected(IMPORT_TEMPLATE, error, context) from error
        return page(request, "vault/imported.html", result=result)
