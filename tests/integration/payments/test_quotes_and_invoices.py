"""Quotes on an engagement, frozen on acceptance; invoices and credit notes numbered without gaps,
immutable once issued, rendered as Factur-X (checked against the official XSD)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import asyncpg
import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from tests.integration.conftest import Actors
from tests.integration.payments.helpers import BUYER, engagement, quote_body


async def _vote_contribution(database_url: URL, basis_points: int) -> None:
    """What an adopted `set_contribution_rate` proposal writes (tests/integration/assemblies covers the vote)."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("insert into contribution_rate (basis_points) values ($1)", basis_points)
    finally:
        await connection.close()


async def test_quote_revision_acceptance_and_invoices(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    await _vote_contribution(database_url, 800)
    mission = await engagement(client, actors.client, actors.owner)
    engagement_id = mission["engagements"][0]["id"]
    url = f"/api/v1/payments/engagements/{engagement_id}/quotes"

    # The quote is checked: milestones add up, legal ids carry valid check digits, VAT or its exemption.
    wrong = quote_body(milestones=[{"title": "Tout", "amount_ht_minor": 100, "due_on": "2030-03-01"}])
    refused = await client.post(url, json=wrong, headers=actors.owner.headers)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "milestones"
    bad_siret = quote_body(buyer={**BUYER, "registration": "732 829 320 00075"})
    refused = await client.post(url, json=bad_siret, headers=actors.owner.headers)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "buyer.registration"
    refused = await client.post(url, json=quote_body(vat_rate_bp=0), headers=actors.owner.headers)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "vat_exemption"
    # Only the engaged member (or an admin) quotes; the client is told why, others see nothing.
    assert (await client.post(url, json=quote_body(), headers=actors.client.headers)).status_code == 403
    assert (await client.post(url, json=quote_body(), headers=actors.other_member.headers)).status_code == 404

    first = (await client.post(url, json=quote_body(), headers=actors.owner.headers)).json()
    assert first["total_ht_minor"] == 250000 and first["total_vat_minor"] == 50000
    assert first["contribution_rate_bp"] == 800 and not first["contribution_rate_frozen"]
    assert first["contribution_minor"] == 20000 and first["member_share_minor"] == 230000
    assert first["buyer"]["siret"] == "73282932000074" and first["buyer"]["vat_number"] == "FR44732829320"
    assert (
        await client.get(f"/api/v1/payments/quotes/{first['id']}", headers=actors.other_member.headers)
    ).status_code == 404

    revised = await client.post(
        f"/api/v1/payments/quotes/{first['id']}/revision",
        json={"note": "Un jour de moins ?"},
        headers=actors.client.headers,
    )
    assert revised.json()["status"] == "revision_requested"
    second = (
        await client.post(
            url,
            json=quote_body(
                days=4,
                milestones=[
                    {"title": "Maquettes", "amount_ht_minor": 100000, "due_on": "2030-03-15"},
                    {"title": "Mise en ligne", "amount_ht_minor": 100000, "due_on": "2030-04-30"},
                ],
            ),
            headers=actors.owner.headers,
        )
    ).json()
    assert second["version"] == 2
    old = (await client.get(f"/api/v1/payments/quotes/{first['id']}", headers=actors.client.headers)).json()
    assert old["status"] == "superseded"
    assert (
        await client.post(f"/api/v1/payments/quotes/{second['id']}/accept", headers=actors.owner.headers)
    ).status_code == 403

    accepted = (
        await client.post(f"/api/v1/payments/quotes/{second['id']}/accept", headers=actors.client.headers)
    ).json()
    assert accepted["status"] == "accepted" and accepted["contribution_rate_frozen"], accepted
    # A later vote never changes a signed engagement.
    await _vote_contribution(database_url, 1500)
    again = (await client.get(f"/api/v1/payments/quotes/{second['id']}", headers=actors.client.headers)).json()
    assert again["contribution_rate_bp"] == 800 and again["contribution_minor"] == 16000
    assert (
        (await client.post(url, json=quote_body(), headers=actors.owner.headers))
        .json()["type"]
        .endswith("quote-not-acceptable")
    )

    # Invoices: one per milestone, numbered in sequence, with the legal mentions and the voted contribution.
    year = datetime.now(UTC).year
    milestone = second["milestones"][0]["id"]
    invoice = (
        await client.post(f"/api/v1/payments/milestones/{milestone}/invoice", headers=actors.owner.headers)
    ).json()
    assert invoice["reference"] == f"F-{year}-000001"
    assert (invoice["total_ht_minor"], invoice["total_vat_minor"], invoice["total_ttc_minor"]) == (
        100000,
        20000,
        120000,
    )
    assert invoice["seller"]["siret"] == "90123456700013" and invoice["buyer"]["siren"] == "732829320"
    assert any("40 €" in mention for mention in invoice["mentions"])
    assert any("8.00 %" in mention for mention in invoice["mentions"])
    duplicate = await client.post(f"/api/v1/payments/milestones/{milestone}/invoice", headers=actors.owner.headers)
    assert duplicate.status_code == 409
    assert (
        await client.get(f"/api/v1/payments/invoices/{invoice['id']}", headers=actors.other_member.headers)
    ).status_code == 404
    listed = (await client.get("/api/v1/payments/invoices", headers=actors.client.headers)).json()
    assert [item["reference"] for item in listed["items"]] == [invoice["reference"]]
    assert (await client.get("/api/v1/payments/invoices", headers=actors.other_member.headers)).json()["total"] == 0

    # Factur-X: a PDF/A-3 carrying CII XML that passes the official EN 16931 schema.
    pdf = await client.get(f"/api/v1/payments/invoices/{invoice['id']}/facturx", headers=actors.client.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    name, xml = get_xml_from_pdf(pdf.content, check_xsd=False)
    assert name == "factur-x.xml" and b"F-" + str(year).encode() in xml
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    metadata = PdfReader(io.BytesIO(pdf.content)).xmp_metadata
    assert metadata is not None and "3" in (metadata.pdfaid_part or "")

    # Corrections are credit notes, in their own gap-free series; an issued invoice is never edited.
    assert (
        await client.post(
            f"/api/v1/payments/invoices/{invoice['id']}/credit-notes",
            json={"amount_ht_minor": 30000, "reason": "Remise"},
            headers=actors.owner.headers,
        )
    ).status_code == 403
    note = (
        await client.post(
            f"/api/v1/payments/invoices/{invoice['id']}/credit-notes",
            json={"amount_ht_minor": 30000, "reason": "Remise"},
            headers=actors.admin.headers,
        )
    ).json()
    assert note["reference"] == f"AV-{year}-000001" and note["total_ttc_minor"] == 36000
    assert note["credited_invoice_id"] == invoice["id"]
    too_much = await client.post(
        f"/api/v1/payments/invoices/{invoice['id']}/credit-notes",
        json={"amount_ht_minor": 70001, "reason": "Trop"},
        headers=actors.admin.headers,
    )
    assert too_much.status_code == 400
    note_pdf = await client.get(f"/api/v1/payments/invoices/{note['id']}/facturx", headers=actors.admin.headers)
    assert b"381" in get_xml_from_pdf(note_pdf.content, check_xsd=True)[1]
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("update invoice set total_ttc_minor = 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("delete from invoice")
    finally:
        await connection.close()


async def test_concurrent_issuers_get_consecutive_numbers(client: AsyncTestClient, actors: Actors) -> None:
    """Twelve invoices issued at once: numbers 1..12, no gap, no duplicate (the counter row is locked)."""
    mission = await engagement(client, actors.client, actors.owner)
    count = 12
    body = quote_body(
        pricing="fixed",
        fixed_price_minor=count * 10000,
        milestones=[{"title": f"Lot {i}", "amount_ht_minor": 10000, "due_on": "2030-03-01"} for i in range(count)],
    )
    quote = (
        await client.post(
            f"/api/v1/payments/engagements/{mission['engagements'][0]['id']}/quotes",
            json=body,
            headers=actors.owner.headers,
        )
    ).json()
    await client.post(f"/api/v1/payments/quotes/{quote['id']}/accept", headers=actors.client.headers)
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/payments/milestones/{m['id']}/invoice", headers=actors.owner.headers)
            for m in quote["milestones"]
        )
    )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    assert sorted(r.json()["number"] for r in responses) == list(range(1, count + 1))
