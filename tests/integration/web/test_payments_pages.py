"""Payments pages, like a browser without JavaScript: a client reads a quote and decides, reads its
invoice, downloads the Factur-X PDF and starts the payment (against localstripe); a member reads their
own account and records an IBAN (shown masked); every member reads the cooperative's accounts;
administrators prepare and approve payout runs with four eyes. Plus the pages' authorization matrix."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS
from tests.integration.conftest import Actors
from tests.integration.payments.conftest import (  # noqa: F401 (fixtures)
    another_admin,
    confirm_with_card,
    localstripe,
    signed_event,
    stripe_settings,
)
from tests.integration.payments.helpers import accepted_quote, issued_invoice, proposed_quote
from tests.integration.platform.matrix import ACTOR_ORDER, expect
from tests.integration.web.conftest import Browsers
from tests.integration.web.helpers import signed_in

IBAN = "FR7630006000011234567890189"


def plain(response: Any) -> str:
    """The page's text with Babel's (narrow) no-break spaces as plain ones: "1 800,00 €"."""
    return response.text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def app(stripe_settings: Settings) -> Litestar:  # noqa: F811
    return create_app(stripe_settings, passwords=FAST_PASSWORDS)


async def test_a_client_asks_for_a_revision_then_accepts_the_next_version(
    client: AsyncTestClient, actors: Actors, browsers: Browsers
) -> None:
    quote = await proposed_quote(client, actors)
    listed = await browsers.client.get("/payments")
    assert listed.status_code == 200 and f"/payments/quotes/{quote['id']}" in listed.text
    shown = await browsers.client.get(f"/payments/quotes/{quote['id']}")
    assert "Accepter le devis" in shown.text and "Maquettes" in shown.text
    assert "2 500,00" in plain(shown) and "3 000,00" in plain(shown)  # before tax, VAT included

    empty = await browsers.client.post(f"/payments/quotes/{quote['id']}/revision", {"note": " "})
    assert empty.status_code == 400 and 'role="alert"' in empty.text
    asked = await browsers.client.post(f"/payments/quotes/{quote['id']}/revision", {"note": "Trois jours suffisent"})
    assert asked.status_code == 303
    again = await browsers.client.get(f"/payments/quotes/{quote['id']}")
    assert "révision demandée" in again.text and "Trois jours suffisent" in again.text
    assert "Accepter le devis" not in again.text
    refused = await browsers.client.post(f"/payments/quotes/{quote['id']}/accept")
    assert refused.status_code == 409

    # The member sees the quote but is not offered the client's decision.
    member_view = await browsers.owner.get(f"/payments/quotes/{quote['id']}")
    assert member_view.status_code == 200 and "Accepter le devis" not in member_view.text


async def test_a_client_pays_and_accepts_then_admins_pay_the_member_out_with_four_eyes(
    client: AsyncTestClient,
    actors: Actors,
    browsers: Browsers,
    localstripe: str,  # noqa: F811
    settings: Settings,
    database_url: URL,
) -> None:
    quote = await accepted_quote(client, actors)
    milestone = quote["milestones"][0]["id"]
    # The engaged member declares the milestone delivered and has its invoice issued, from the quote's page.
    member_quote = await browsers.owner.get(f"/payments/quotes/{quote['id']}")
    assert "Déclarer l&#39;étape livrée" in member_quote.text and "Accepter cette étape" not in member_quote.text
    assert (await browsers.owner.post(f"/payments/milestones/{milestone}/deliver")).status_code == 303
    assert (await browsers.client.post(f"/payments/milestones/{milestone}/invoice")).status_code == 403
    issued = await browsers.owner.post(f"/payments/milestones/{milestone}/invoice")
    assert issued.status_code == 303 and issued.headers["location"].startswith("/payments/invoices/")
    assert (await browsers.owner.post(f"/payments/milestones/{milestone}/invoice")).status_code == 409
    invoice_id = issued.headers["location"].rsplit("/", 1)[1]
    invoice = (await client.get(f"/api/v1/payments/invoices/{invoice_id}", headers=actors.client.headers)).json()
    assert invoice["reference"] in (await browsers.owner.get(f"/payments/quotes/{quote['id']}")).text

    page = await browsers.client.get(f"/payments/invoices/{invoice['id']}")
    assert page.status_code == 200
    assert invoice["reference"] in page.text and "Maquettes" in page.text
    assert "1 800,00" in plain(page) and "300,00" in plain(page)  # total and VAT
    assert "Commencer le paiement" in page.text
    pdf = await browsers.client.get(f"/payments/invoices/{invoice['id']}/facturx")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment")

    # The member of the engagement reads the invoice but does not pay it.
    member_view = await browsers.owner.get(f"/payments/invoices/{invoice['id']}")
    assert member_view.status_code == 200 and "Commencer le paiement" not in member_view.text

    started = await browsers.client.post(f"/payments/invoices/{invoice['id']}/pay", {"method": "card"})
    assert started.status_code == 200, started.text[-2000:]
    assert started.headers["cache-control"] == "no-store"
    intent = started.text.split("<code>")[1].split("</code>")[0]
    assert intent.startswith("pi_") and "_secret_" in started.text
    retried = await browsers.client.post(f"/payments/invoices/{invoice['id']}/pay", {"method": "card"})
    assert intent in retried.text  # the same PaymentIntent: nothing is charged twice
    waiting = await browsers.client.get(f"/payments/invoices/{invoice['id']}")
    assert 'hx-trigger="every 10s"' in waiting.text  # with JavaScript, the status reloads itself

    # What Stripe.js would do in the browser, then Stripe's webhook (signed alike): the page says paid.
    assert confirm_with_card(localstripe, intent)["status"] == "succeeded"
    body, headers = signed_event(
        "payment_intent.succeeded", {"id": intent, "object": "payment_intent", "status": "succeeded", "amount": 180000}
    )
    assert (await client.post("/api/v1/payments/stripe/webhook", content=body, headers=headers)).status_code == 200
    deadline = time.monotonic() + 15
    while "Commencer le paiement" in (await browsers.client.get(f"/payments/invoices/{invoice['id']}")).text:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    paid = await browsers.client.get(f"/payments/invoices/{invoice['id']}")
    assert "payé" in paid.text and 'hx-trigger="every 10s"' not in paid.text

    quote_page = await browsers.client.get(f"/payments/quotes/{quote['id']}")
    assert "Accepter cette étape" in quote_page.text
    accepted = await browsers.client.post(f"/payments/milestones/{milestone}/accept")
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/payments/quotes/{quote['id']}"

    account = await browsers.owner.get("/payments/account")
    assert "1 350,00" in plain(account)  # 1,500.00 before tax, less the 10 % contribution
    saved = await browsers.owner.post(
        "/payments/account/bank-account", {"holder_name": "Owner Member", "iban": IBAN, "bic": ""}
    )
    assert saved.status_code == 303, saved.text[-1500:]
    coop = await browsers.other_member.get("/payments/cooperative")
    assert coop.status_code == 200 and "1 350,00" in plain(coop)  # owed to members, aggregated

    prepared = await browsers.admin.post("/payments/payout-runs", {"execution_date": ""})
    assert prepared.status_code == 303, prepared.text[-1500:]
    run_url = prepared.headers["location"]
    run_page = await browsers.admin.get(run_url)
    assert "0189" in run_page.text and "1 350,00" in plain(run_page) and "/approve" not in run_page.text
    # The owner has no profile: the line says "a member", never an account name or email.
    assert "un membre" in run_page.text and "Owner Member" not in run_page.text
    own = await browsers.admin.post(f"{run_url}/approve")
    assert own.status_code == 403  # four eyes: not the administrator who prepared it
    second = await signed_in(client, await another_admin(settings, database_url))
    approved = await second.post(f"{run_url}/approve")
    assert approved.status_code == 303
    sepa = await second.get(f"{run_url}/sepa")
    assert sepa.status_code == 200 and b"pain.001.001.09" in sepa.content
    approved_page = await second.get(run_url)
    line_id = approved_page.text.split("/payments/payout-lines/")[1].split("/")[0]
    executed = await second.post(f"/payments/payout-lines/{line_id}/outcome", {"outcome": "executed"})
    assert executed.status_code == 303 and executed.headers["location"] == run_url
    assert "exécuté" in (await second.get(run_url)).text
    # The list shows the run approved, its total, and who prepared and approved it.
    runs = await second.get("/payments/payout-runs")
    row = runs.text.split(f'href="{run_url}"')[1].split("</tr>")[0]
    assert "approuvée" in row and "1 350,00" in row.replace("\u202f", " ").replace("\xa0", " ")
    assert "par Admin" in row and "par vous" in row  # prepared by the first administrator, approved by this one
    assert "0,00" in (await browsers.owner.get("/payments/account")).text


async def test_a_member_reads_their_account_and_records_an_iban_shown_masked(browsers: Browsers) -> None:
    page = await browsers.owner.get("/payments/account")
    assert page.status_code == 200 and "0,00" in plain(page)
    wrong = await browsers.owner.post(
        "/payments/account/bank-account", {"holder_name": "Alex Test", "iban": "FR76 0000 0000 0000", "bic": ""}
    )
    assert wrong.status_code in (400, 422) and 'aria-invalid="true"' in wrong.text
    assert "FR76 0000" not in wrong.text  # an IBAN is never echoed back
    saved = await browsers.owner.post(
        "/payments/account/bank-account", {"holder_name": "Alex Test", "iban": IBAN, "bic": ""}
    )
    assert saved.status_code == 303, saved.text[-1500:]
    shown = await browsers.owner.get("/payments/account")
    assert "0189" in shown.text and IBAN not in shown.text and "3000 6000" not in shown.text
    # Clients have no IBAN to record.
    client_page = await browsers.client.get("/payments/account")
    assert client_page.status_code == 200 and "bank-account" not in client_page.text


async def test_nobody_owed_means_no_payout_run(browsers: Browsers) -> None:
    coop = await browsers.other_member.get("/payments/cooperative")
    assert coop.status_code == 200 and "Soldes" in coop.text
    assert "Aucune campagne de versements" in (await browsers.admin.get("/payments/payout-runs")).text
    nobody = await browsers.admin.post("/payments/payout-runs", {"execution_date": ""})
    assert nobody.status_code == 409 and 'role="alert"' in nobody.text
    assert "Aucune campagne de versements" in nobody.text  # the refused form still shows the (empty) list
    bad_date = await browsers.admin.post("/payments/payout-runs", {"execution_date": "2030-02-31"})
    assert bad_date.status_code == 400 and 'aria-invalid="true"' in bad_date.text


MATRIX = [
    ("GET", "/payments", expect(200, 200, 200, 200, 303)),
    ("GET", "/payments/account", expect(200, 200, 200, 200, 303)),
    ("GET", "/payments/cooperative", expect(200, 200, 403, 200, 303)),
    ("GET", "/payments/payout-runs", expect(403, 403, 403, 200, 303)),
    ("GET", "/payments/quotes/{quote}", expect(200, 404, 200, 200, 303)),
    ("GET", "/payments/invoices/{invoice}", expect(200, 404, 200, 200, 303)),
    ("GET", "/payments/invoices/{invoice}/facturx", expect(200, 404, 200, 200, 303)),
    ("POST", "/payments/quotes/{quote}/revision", expect(403, 404, 409, 403, 401), {"note": "Moins cher"}),
    ("POST", "/payments/invoices/{invoice}/pay", expect(403, 404, 200, 403, 401)),
    ("POST", "/payments/account/bank-account", expect(400, 400, 403, 403, 401)),
    ("POST", "/payments/payout-runs", expect(403, 403, 403, 409, 401)),
    ("POST", "/payments/quotes/{quote}/accept", expect(403, 404, 409, 403, 401)),
    ("POST", "/payments/milestones/{milestone}/accept", expect(403, 404, 409, 403, 401)),
    ("POST", "/payments/milestones/{milestone}/deliver", expect(303, 404, 403, 409, 401)),
    ("POST", "/payments/milestones/{milestone}/invoice", expect(409, 404, 403, 409, 401)),
    ("GET", "/payments/payout-runs/{missing}", expect(403, 403, 403, 404, 303)),
    ("GET", "/payments/payout-runs/{missing}/sepa", expect(403, 403, 403, 404, 303)),
    ("POST", "/payments/payout-runs/{missing}/approve", expect(403, 403, 403, 404, 401)),
    ("POST", "/payments/payout-lines/{missing}/outcome", expect(403, 403, 403, 404, 401), {"outcome": "executed"}),
]


async def test_payments_pages_authorization_matrix(client: AsyncTestClient, actors: Actors, browsers: Browsers) -> None:
    """A member never sees another's quote or invoice (404, like a missing one); payouts are the admins'."""
    invoice = await issued_invoice(client, actors)
    context = {
        "quote": invoice["quote_id"],
        "invoice": invoice["id"],
        "milestone": invoice["milestone_id"],
        "missing": uuid.uuid4(),
    }
    failures = []
    for method, template, expected, *body in MATRIX:
        url = template.format(**context)
        for name in ACTOR_ORDER:
            browser = browsers.by_name(name)
            response = await (browser.get(url) if method == "GET" else browser.post(url, body[0] if body else {}))
            if response.status_code != expected[name]:
                failures.append(f"{method} {url} as {name}: {response.status_code} != {expected[name]}")
    assert not failures, "\n".join(failures)


async def test_payments_pages_speak_english_too(client: AsyncTestClient, actors: Actors) -> None:
    english = await signed_in(client, actors.owner.email or "", "en")
    page = await english.get("/payments/account")
    assert '<html lang="en">' in page.text and "Your account with the cooperative" in page.text
    assert "€0.00" in page.text and "Save the IBAN" in page.text
