"""Data vault pages, like a browser without JavaScript: a member exports and downloads their archive,
creates a recovery key (shown once), consents to a partner under a convention and revokes it (with
receipts), reads the access log, and erases their data after a confirmation step (certificate shown);
administrators register partners and record conventions; an archive is uploaded as a multipart form.
Plus the pages' authorization matrix."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

from joserfc import jws
from litestar.testing import AsyncTestClient

from app.vault.importer import sign_recovery_proof
from tests.conftest import TEST_PASSWORD
from tests.integration.conftest import Actors
from tests.integration.platform.matrix import ACTOR_ORDER, expect
from tests.integration.vault.helpers import did_keys
from tests.integration.vault.matrix_setups import convention_body
from tests.integration.web.conftest import Browsers
from tests.integration.web.helpers import Browser, signed_in


def _day(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def _archive(browser: Browser) -> bytes:
    started = await browser.post("/vault/exports")
    assert started.status_code == 303 and started.headers["location"] == "/vault#exports"
    page = await browser.get("/vault")
    link = page.text.split('href="/vault/exports/')[1].split('"')[0]
    download = await browser.get(f"/vault/exports/{link}")
    assert download.status_code == 200, download.text[-1000:]
    assert download.headers["content-type"].startswith("application/zip")
    assert download.headers["cache-control"] == "no-store"
    return download.content


async def test_a_member_exports_downloads_and_keeps_a_recovery_key(browsers: Browsers) -> None:
    page = await browsers.owner.get("/vault")
    assert page.status_code == 200 and "Lancer un export" in page.text and "Coffre de données" in page.text
    archive = zipfile.ZipFile(io.BytesIO(await _archive(browsers.owner)))
    assert {"manifest.json", "manifest.jws", "account.json", "index.html"} <= set(archive.namelist())

    created = await browsers.owner.post("/vault/recovery-key")
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    assert "BEGIN PRIVATE KEY" in created.text
    again = await browsers.owner.get("/vault")
    assert "Vous avez une clé de récupération" in again.text and "BEGIN PRIVATE KEY" not in again.text

    log = await browsers.owner.get("/vault/access-log")
    assert log.status_code == 200
    assert "export.requested" in log.text and "export.downloaded" in log.text and "recovery-key.created" in log.text

    # Another member's export does not exist for them.
    export_id = again.text.split('href="/vault/exports/')[1].split("/")[0]
    assert (await browsers.other_member.get(f"/vault/exports/{export_id}/archive")).status_code == 404


async def test_admins_record_a_convention_and_a_member_grants_then_revokes(browsers: Browsers) -> None:
    empty_page = await browsers.owner.get("/vault/conventions")
    assert empty_page.status_code == 200 and "Enregistrer une convention" not in empty_page.text

    partner = await browsers.admin.post("/vault/partners", {"name": "Agence Emploi", "kind": "territorial agency"})
    assert partner.status_code == 200 and partner.headers["cache-control"] == "no-store"
    assert "Secret client OAuth" in partner.text
    listed = await browsers.admin.get("/vault/conventions")
    partner_id = listed.text.split('name="partner_id" required>')[1].split('value="')[1].split('"')[0]

    body = convention_body(partner_id)
    form = {
        "partner_id": partner_id,
        "title": "Accompagnement vers l'emploi",
        "purpose": body["purpose"],
        "legal_basis": "consent",
        "categories": ["profile", "skills"],
        "retention_days": "30",
        "no_resale": "yes",
        "deletion_at_end": "yes",
        "hosting": "France",
        "starts_on": _day(0),
        "ends_on": _day(30),
    }
    refused = await browsers.admin.post("/vault/conventions", {**form, "retention_days": "0"})
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert "Accompagnement vers l&#39;emploi" in refused.text  # what was typed is kept
    recorded = await browsers.admin.post("/vault/conventions", form)
    assert recorded.status_code == 303, recorded.text[-1500:]

    readable = await browsers.other_member.get("/vault/conventions")
    assert "Accompagnement vers l&#39;emploi" in readable.text and "pas de revente" in readable.text
    vault = await browsers.owner.get("/vault")
    convention_id = vault.text.split('name="convention_id" required>')[1].split('value="')[1].split('"')[0]

    beyond = await browsers.owner.post(
        "/vault/grants", {"convention_id": convention_id, "scopes": ["applications"], "expires_on": _day(10)}
    )
    assert beyond.status_code == 422 and 'role="alert"' in beyond.text  # not a category of the convention
    too_late = await browsers.owner.post(
        "/vault/grants", {"convention_id": convention_id, "scopes": ["profile"], "expires_on": _day(90)}
    )
    assert too_late.status_code == 422
    no_date = await browsers.owner.post("/vault/grants", {"convention_id": convention_id, "scopes": ["profile"]})
    assert no_date.status_code == 400 and 'aria-invalid="true"' in no_date.text
    granted = await browsers.owner.post(
        "/vault/grants", {"convention_id": convention_id, "scopes": ["profile"], "expires_on": _day(10)}
    )
    assert granted.status_code == 303 and granted.headers["location"] == "/vault/receipts"
    receipts = await browsers.owner.get("/vault/receipts")
    assert "consentement donné" in receipts.text and "proof" in receipts.text

    vault = await browsers.owner.get("/vault")
    grant_id = vault.text.split('action="/vault/grants/')[1].split("/")[0]
    assert (await browsers.other_member.post(f"/vault/grants/{grant_id}/revoke")).status_code == 404
    revoked = await browsers.owner.post(f"/vault/grants/{grant_id}/revoke")
    assert revoked.status_code == 303
    assert "consentement retiré" in (await browsers.owner.get("/vault/receipts")).text
    assert "révoquée le" in (await browsers.owner.get("/vault")).text
    assert (await browsers.owner.post(f"/vault/grants/{grant_id}/revoke")).status_code == 409


async def test_erasure_needs_the_password_then_a_confirmation_and_gives_a_certificate(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    step_one = await browsers.other_member.get("/vault/erasure")
    assert step_one.status_code == 200 and 'type="password"' in step_one.text
    wrong = await browsers.other_member.post("/vault/erasure/confirm", {"password": "not the password"})
    assert wrong.status_code == 403 and 'aria-invalid="true"' in wrong.text
    forged = await browsers.other_member.post("/vault/erasure", {"confirmation": "a.b.c"})
    assert forged.status_code == 403
    confirm = await browsers.other_member.post("/vault/erasure/confirm", {"password": TEST_PASSWORD})
    assert confirm.status_code == 200 and "Dernière étape" in confirm.text
    assert confirm.headers["cache-control"] == "no-store"
    confirmation = confirm.text.split('name="confirmation" value="')[1].split('"')[0]
    # Someone else's confirmation is worth nothing.
    assert (await browsers.owner.post("/vault/erasure", {"confirmation": confirmation})).status_code == 403
    erased = await browsers.other_member.post("/vault/erasure", {"confirmation": confirmation})
    assert erased.status_code == 200, erased.text[-1500:]
    assert "coop-erasure-certificate" in erased.text and f"urn:uuid:{actors.other_member.account_id}" in erased.text
    assert (actors.other_member.email or "") not in erased.text.split("<main")[1]
    # The only copy they get, as a file: the signed JSON, whose proof checks against the published keys.
    link = erased.text.split('href="data:application/json;charset=utf-8;base64,')[1].split('"')[0]
    assert 'download="erasure-certificate-' in erased.text and "seule copie" in erased.text
    certificate = json.loads(base64.b64decode(link))
    assert certificate["subject"] == f"urn:uuid:{actors.other_member.account_id}"
    did_document = (await client.get("/.well-known/did.json")).json()
    proof = jws.deserialize_compact(certificate.pop("proof"), did_keys(did_document), algorithms=["EdDSA"])
    assert json.loads(proof.payload) == certificate
    # The account is gone: its API token no longer opens its data.
    assert (await client.get("/api/v1/me/vault/exports", headers=actors.other_member.headers)).status_code == 401


async def test_an_archive_is_uploaded_as_a_multipart_form(browsers: Browsers) -> None:
    form = await browsers.anonymous.get("/vault/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    token = await browsers.anonymous.csrf()
    missing = await browsers.anonymous._send("POST", "/vault/import", data={"_csrf_token": token, "proof": "x"})
    assert missing.status_code == 400 and 'id="error-archive"' in missing.text
    not_a_zip = await browsers.anonymous._send(
        "POST",
        "/vault/import",
        data={"_csrf_token": token, "proof": "a.b.c"},
        files={"archive": ("vault.zip", b"not a zip at all", "application/zip")},
    )
    assert not_a_zip.status_code == 422 and 'role="alert"' in not_a_zip.text

    # A real archive of this cooperative, proved with the member's key: verified, then refused (nothing to move).
    created = await browsers.owner.post("/vault/recovery-key")
    pem = created.text.split('readonly rows="5" spellcheck="false">')[1].split("</textarea>")[0]
    pem = pem.replace("&#43;", "+").replace("&#x2B;", "+")
    data = await _archive(browsers.owner)  # exported after the key exists: the manifest carries it
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")
    issuer = json.loads(manifest)["issuer"]
    did = issuer["did"]
    proof = sign_recovery_proof(pem, manifest, did)
    own = await browsers.anonymous._send(
        "POST",
        "/vault/import",
        data={"_csrf_token": token, "proof": proof},
        files={"archive": ("vault.zip", data, "application/zip")},
    )
    assert own.status_code == 422 and "Cette archive ne peut pas être importée" in own.text, own.text[-1500:]
    no_token = await browsers.anonymous._send(
        "POST", "/vault/import", data={"proof": proof}, files={"archive": ("vault.zip", data, "application/zip")}
    )
    assert no_token.status_code == 403


MATRIX = [
    ("GET", "/vault", expect(200, 200, 403, 403, 303)),
    ("GET", "/vault/receipts", expect(200, 200, 403, 403, 303)),
    ("GET", "/vault/access-log", expect(200, 200, 403, 403, 303)),
    ("GET", "/vault/erasure", expect(200, 200, 403, 403, 303)),
    ("GET", "/vault/conventions", expect(200, 200, 403, 200, 303)),
    ("GET", "/vault/import", expect(200, 200, 200, 200, 200)),
    ("POST", "/vault/partners", expect(403, 403, 403, 400, 401)),
    ("POST", "/vault/conventions", expect(403, 403, 403, 400, 401)),
    ("POST", "/vault/grants", expect(400, 400, 403, 403, 401)),
    ("POST", "/vault/erasure/confirm", expect(403, 403, 403, 403, 401)),
    ("POST", "/vault/recovery-key", expect(200, 200, 403, 403, 401)),
    ("POST", "/vault/exports", expect(303, 303, 403, 403, 401)),
    ("GET", f"/vault/exports/{uuid.uuid4()}/archive", expect(404, 404, 403, 403, 303)),
    ("POST", f"/vault/grants/{uuid.uuid4()}/revoke", expect(404, 404, 403, 403, 401)),
    ("POST", "/vault/erasure", expect(403, 403, 403, 403, 401)),
]


async def test_vault_pages_authorization_matrix(browsers: Browsers) -> None:
    """The vault is its member's: clients and administrators have none; conventions are readable by members."""
    failures = []
    for method, url, expected in MATRIX:
        for name in ACTOR_ORDER:
            browser = browsers.by_name(name)
            response = await (browser.get(url) if method == "GET" else browser.post(url, {}))
            if response.status_code != expected[name]:
                failures.append(f"{method} {url} as {name}: {response.status_code} != {expected[name]}")
    assert not failures, "\n".join(failures)


async def test_vault_pages_speak_english_too(client: AsyncTestClient, actors: Actors) -> None:
    english = await signed_in(client, actors.owner.email or "", "en")
    page = await english.get("/vault")
    assert '<html lang="en">' in page.text and "Your data vault" in page.text and "Start an export" in page.text
    assert "Data vault" in page.text  # the navigation entry
