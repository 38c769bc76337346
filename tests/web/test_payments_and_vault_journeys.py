"""Browser journeys of the payments and data vault pages, every visited page checked by axe-core:

1. a client accepts a quote, reads the invoice, downloads its Factur-X PDF and starts paying (this
   server has no Stripe account: the page says the provider is not there, and nothing is booked);
   the member reads their account and records an IBAN, shown masked; at 360 px too;
2. a member exports their vault and downloads it, creates a recovery key and reads the access log;
   an administrator records a convention with a partner; the member consents under it and revokes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import TEST_PASSWORD
from tests.integration.missions.helpers import mission_body
from tests.integration.payments.helpers import quote_body
from tests.web.conftest import Server
from tests.web.pages import check_accessibility, sign_in, submit, visit


@pytest.fixture
def people(browser: Browser, server: Server) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def person(email: str, **options: Any) -> Page:
        context = browser.new_context(bypass_csp=True, locale="fr-FR", accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, server.base, email)
        return page

    yield person
    for context in contexts:
        context.close()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _verified_client(server: Server, email: str) -> None:
    server.register(email, "Régie Paiements", role="client")
    verified = server.api("POST", "/api/v1/auth/verify-email", json={"token": server.mailbox.last_token(email)})
    organisation = _ok(verified)["client_organisation_id"]
    _ok(server.api("POST", f"/api/v1/organisations/{organisation}/verify", server.token(server.admin_email)))


def _quoted_engagement(server: Server, client_email: str, member_email: str) -> str:
    """An open mission of the client with the member engaged and a quote proposed; returns the quote id."""
    customer, member = server.token(client_email), server.token(member_email)
    mission = _ok(server.api("POST", "/api/v1/missions", customer, json=mission_body()), 201)
    mission = _ok(server.api("POST", f"/api/v1/missions/{mission['id']}/transitions", customer, json={"to": "open"}))
    application = _ok(
        server.api(
            "POST",
            f"/api/v1/missions/{mission['id']}/applications",
            member,
            json={"seat_id": mission["seats"][0]["id"], "message": "Disponible.", "proposed_day_rate_minor": 50000},
        ),
        201,
    )
    _ok(server.api("POST", f"/api/v1/missions/{mission['id']}/applications/{application['id']}/accept", customer))
    engagement = _ok(server.api("GET", f"/api/v1/missions/{mission['id']}", customer))["engagements"][0]["id"]
    quote = server.api("POST", f"/api/v1/payments/engagements/{engagement}/quotes", member, json=quote_body())
    return _ok(quote, 201)["id"]


def test_a_client_accepts_a_quote_and_reads_its_invoice_and_a_member_records_an_iban(
    server: Server, people: Callable[..., Page]
) -> None:
    base = server.base
    client_email, member_email = "payeur@example.org", "facturee@example.org"
    _verified_client(server, client_email)
    server.register(member_email, "Fanny Facturée")
    quote_id = _quoted_engagement(server, client_email, member_email)

    customer = people(client_email)
    visit(customer, f"{base}/payments")
    customer.get_by_role("link", name="Devis, version 1").click()
    check_accessibility(customer)
    expect(customer.locator("dl.facts")).to_contain_text("proposé")
    submit(customer, "Accepter le devis")
    expect(customer.locator(".flash")).to_be_visible()
    expect(customer.locator("dl.facts")).to_contain_text("accepté")

    member = server.token(member_email)
    milestone = _ok(server.api("GET", f"/api/v1/payments/quotes/{quote_id}", member))["milestones"][0]["id"]
    _ok(server.api("POST", f"/api/v1/payments/milestones/{milestone}/deliver", member))
    invoice = _ok(server.api("POST", f"/api/v1/payments/milestones/{milestone}/invoice", member), 201)

    visit(customer, f"{base}/payments")
    customer.get_by_role("link", name=invoice["reference"]).click()
    check_accessibility(customer)
    expect(customer.locator("h1")).to_contain_text(invoice["reference"])
    expect(customer.locator("main")).to_contain_text("1\u202f800,00")
    with customer.expect_download() as download:
        customer.get_by_role("link", name="Télécharger la facture (PDF Factur-X)").click()
    assert download.value.suggested_filename == f"{invoice['reference']}.pdf"
    submit(customer, "Commencer le paiement")  # no Stripe account on this server
    expect(customer.locator("#error-summary")).to_be_focused()
    expect(customer.locator("#error-summary")).to_contain_text("prestataire de paiement")

    phone = people(member_email, viewport={"width": 360, "height": 740})
    visit(phone, f"{base}/payments/account")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    phone.fill("#field-holder_name", "Fanny Facturée")
    phone.fill("#field-iban", "FR76 3000 6000 0112 3456 7890 189")
    submit(phone, "Enregistrer l'IBAN")
    expect(phone.locator("main")).to_contain_text("**** **** **** 0189")
    expect(phone.locator("main")).not_to_contain_text("3000 6000 0112")
    # Administrators read the payout runs (none yet: nobody is owed before the invoice is paid).
    admin = people(server.admin_email)
    visit(admin, f"{base}/payments/payout-runs")
    expect(admin.locator("main")).to_contain_text("Aucune campagne de versements")


def test_a_member_exports_their_vault_and_keeps_a_recovery_key(server: Server, people: Callable[..., Page]) -> None:
    base, email = server.base, "coffre@example.org"
    server.register(email, "Camille Coffre")
    member = people(email)
    visit(member, f"{base}/vault")
    submit(member, "Lancer un export")
    with member.expect_download() as download:
        member.get_by_role("link", name="Télécharger l'archive").first.click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert "manifest.jws" in archive.namelist()

    submit(member, "Créer ma clé de récupération")
    expect(member.locator("#private-key")).to_contain_text("BEGIN PRIVATE KEY")
    visit(member, f"{base}/vault/access-log")
    expect(member.locator("table")).to_contain_text("export.downloaded")
    # An administrator registers a partner and records a convention; the member consents, then revokes.
    admin = people(server.admin_email)
    visit(admin, f"{base}/vault/conventions")
    admin.fill("#field-name", "Agence Emploi Territoires")
    admin.fill("#field-kind", "agence territoriale")
    submit(admin, "Enregistrer le partenaire")
    expect(admin.locator("main")).to_contain_text("Secret client OAuth")
    visit(admin, f"{base}/vault/conventions")
    admin.fill("#field-title", "Accompagnement vers l'emploi")
    admin.fill("#field-purpose", "Proposer des missions adaptées aux compétences.")
    admin.check("#category-profile")
    admin.check("#category-skills")
    admin.fill("#field-retention_days", "90")
    admin.check("#field-no_resale")
    admin.fill("#field-hosting", "France")
    admin.fill("#field-starts_on", date.today().isoformat())
    admin.fill("#field-ends_on", (date.today() + timedelta(days=60)).isoformat())
    submit(admin, "Enregistrer la convention")
    expect(admin.locator("main")).to_contain_text("Accompagnement vers l'emploi")

    visit(member, f"{base}/vault")
    member.check("#scope-skills")
    member.fill("#field-expires_on", (date.today() + timedelta(days=30)).isoformat())
    submit(member, "Donner mon consentement")
    expect(member.locator("main")).to_contain_text("consentement donné")
    visit(member, f"{base}/vault")
    submit(member, "Révoquer maintenant")
    expect(member.locator("main")).to_contain_text("révoquée le")
    visit(member, f"{base}/vault/receipts")
    expect(member.locator("main")).to_contain_text("consentement retiré")
    visit(member, f"{base}/vault/erasure")
    # Erasure: the password, the last step, then the certificate downloaded as a signed JSON file.
    member.fill("#field-password", TEST_PASSWORD)
    submit(member, "Confirmer avec mon mot de passe")
    submit(member, "Effacer mes données maintenant, définitivement")
    expect(member.locator("main")).to_contain_text("seule copie")
    with member.expect_download() as download:
        member.get_by_role("link", name="Télécharger le certificat (JSON signé)").click()
    assert download.value.suggested_filename.startswith("erasure-certificate-")
    certificate = json.loads(download.value.path().read_bytes())
    assert certificate["type"] == "coop-erasure-certificate" and certificate["proof"].count(".") == 2
