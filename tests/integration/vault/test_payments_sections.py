"""Payments in the archive: the member's ledger lines, the invoices of their engagements (what the invoice
shows them, never the buyer's other details) and their payouts (IBAN masked), as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.settings import Settings
from app.vault import records
from tests.integration.conftest import Actors
from tests.integration.payments.helpers import BUYER
from tests.integration.vault.helpers import MEMBER_IBAN_COMPACT, export, ok, paid_member


async def test_a_paid_members_archive_holds_their_ledger_invoices_and_payouts(
    client: AsyncTestClient, actors: Actors, settings: Settings, database_url: URL
) -> None:
    paid = await paid_member(client, actors, settings, database_url)
    first, second = paid["invoices"]
    data, archive = await export(client, actors.owner)
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"] for entry in manifest["files"]}
    for section in ("ledger_lines", "invoices", "payouts"):
        assert {f"{section}.json", f"{section}.csv"} <= listed
        msgspec.json.decode(archive.read(f"{section}.json"), type=list[records.SECTION_BY_NAME[section].row])

    invoices = json.loads(archive.read("invoices.json"))
    assert [i["reference"] for i in invoices] == [first["reference"], second["reference"]]
    invoice = invoices[0]
    # 1,500.00 before tax, VAT 20 %, the contribution in force (10 % by default): the member's share is the rest.
    assert (invoice["total_ht_minor"], invoice["total_vat_minor"], invoice["total_ttc_minor"]) == (
        150000,
        30000,
        180000,
    )
    assert invoice["contribution_minor"] == 150000 * invoice["contribution_rate_bp"] // 10000
    assert invoice["member_share_minor"] == 150000 - invoice["contribution_minor"]
    assert invoice["buyer_name"] == BUYER["name"] and "Maquettes" in invoice["description"]
    # The buyer's registration, VAT number and address are the client's, not the member's data.
    for private in (BUYER["vat_number"].encode(), b"732 829 320", b"rue de la Paix"):
        assert private not in data

    ledger = json.loads(archive.read("ledger_lines.json"))
    # The gross amount before tax released to the member, the voted contribution taken, the rest paid out.
    assert [line["kind"] for line in ledger] == ["escrow_release", "contribution", "payout"]
    released, contribution, paid_out = ledger
    assert released["amount_minor"] == invoice["total_ht_minor"]
    assert contribution["amount_minor"] == -invoice["contribution_minor"]
    assert released["invoice_reference"] == first["reference"]
    assert paid_out["amount_minor"] == -invoice["member_share_minor"]
    assert ok(await client.get("/api/v1/payments/ledger/mine", headers=actors.owner.headers))["balance_minor"] == sum(
        line["amount_minor"] for line in ledger
    )

    payouts = json.loads(archive.read("payouts.json"))
    assert len(payouts) == 1 and payouts[0]["id"] == paid["run"]["lines"][0]["id"]
    assert payouts[0]["iban_masked"] == "**** **** **** 2606" and payouts[0]["status"] == "submitted"
    assert payouts[0]["amount_minor"] == invoice["member_share_minor"]
    assert MEMBER_IBAN_COMPACT.encode() not in data and b"20041010050500013M02606" not in data

    # The CSV twins: the same rows, negative amounts as numbers (not quoted as spreadsheet formulas).
    rows = list(csv.DictReader(io.StringIO(archive.read("ledger_lines.csv").decode())))
    assert [int(row["amount_minor"]) for row in rows] == [line["amount_minor"] for line in ledger]
    rows = list(csv.DictReader(io.StringIO(archive.read("payouts.csv").decode())))
    assert rows[0]["iban_masked"] == "**** **** **** 2606"

    # The other member's archive has none of it.
    _, theirs = await export(client, actors.other_member)
    for section in ("ledger_lines", "invoices", "payouts"):
        assert json.loads(theirs.read(f"{section}.json")) == []
