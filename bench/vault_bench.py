"""Vault benchmark: export of a member with 10,000 records, beside reading the same rows raw; import.

    python -m bench.vault_bench [--missions 2000] [--seats 3]

It creates two fresh databases (on DATABASE_URL's server, or an embedded PostgreSQL in a temporary
directory), migrates them, and bulk-loads (COPY) one member's history into the first: `missions`
delivered missions of a client with `seats` seats each, an application of the member to every seat,
an engagement on each mission's first seat, and the client's review of the member on each mission
(2,000 x 3 = 6,000 applications + 2,000 engagements + 2,000 reviews = 10,000 records by default).

It then measures, in this process (the application under Litestar's test client, no network):

* the export: `POST /api/v1/me/vault/exports` and the download of the archive, streamed to a file;
  wall time and the process's peak resident memory above its level before the download (sampled every
  5 ms), with the archive's size and its number of files (2,000 of them signed credentials);
* the same rows read raw: the section statements the export runs, fetched whole by asyncpg;
* the import of that archive into the second database (a second cooperative that trusts the first).

This is a benchmark, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from litestar.testing import AsyncTestClient

from app.accounts.passwords import Passwords
from app.accounts.tokens import generate_private_key_pem
from app.db import migrations
from app.db.embedded import EmbeddedPostgres
from app.db.url import asyncpg_dsn, to_async_url, with_database
from app.main import create_app
from app.settings import Settings
from app.vault.importer import sign_recovery_proof
from app.vault.repository import SECTION_SQL

PASSWORD = "correct horse battery staple 42"
FAST = Passwords(memory_cost_kib=1024, time_cost=1)


class PeakRss:
    """Samples the process's resident memory in a thread; `peak` is the highest seen since `start`."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.base = self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRss:
        self.base = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    @property
    def above_base_mib(self) -> float:
        return (self.peak - self.base) / 2**20


async def _server(url: Any, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def load(dsn: str, *, missions: int, seats: int) -> tuple[uuid.UUID, str]:
    """The member's history, by COPY; returns the member's id and email."""
    connection = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    member, client, organisation = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    email = "bench.member@example.org"
    password_hash = await FAST.hash(PASSWORD)
    try:
        await connection.execute(
            "insert into client_organisation (id, legal_name, registration_number, billing_address, created_at)"
            " values ($1, 'Bench client SAS', 'RCS 1', '1 rue du Banc', now())",
            organisation,
        )
        await connection.executemany(
            "insert into account (id, email, display_name, password_hash, role, member_status, client_organisation_id,"
            " email_verified_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, now(), now())",
            [
                (member, email, "Bench Member", password_hash, "member", "member", None),
                (client, "bench.client@example.org", "Bench Client", password_hash, "client", None, organisation),
            ],
        )
        mission_rows, seat_rows, application_rows, engagement_rows, review_rows = [], [], [], [], []
        for index in range(missions):
            mission = uuid.uuid4()
            starts = date(2025, 1, 1) + timedelta(days=index % 300)
            mission_rows.append(
                (
                    mission, client, organisation, f"Mission {index} : refonte d'un service public numérique",
                    "Une mission de banc d'essai.", "fixed", 500000, "EUR", starts, starts + timedelta(days=30),
                    "Lyon", "69001", "Auvergne-Rhône-Alpes", "FR", "remote", "public", "delivered",
                    now, "", now, now,
                )
            )  # fmt: skip
            for position in range(seats):
                seat = uuid.uuid4()
                seat_rows.append((seat, mission, position, f"Seat {position}", 50000, 10))
                application = uuid.uuid4()
                accepted = position == 0
                application_rows.append(
                    (
                        application, mission, seat, member, f"Candidature {index}-{position}, disponible.",
                        48000, "accepted" if accepted else "declined", now, now,
                    )
                )  # fmt: skip
                if accepted:
                    engagement_rows.append(
                        (uuid.uuid4(), mission, seat, member, application, 48000, 10, starts, starts, now)
                    )
            review_rows.append((uuid.uuid4(), mission, client, member, 5, f"Très bon travail {index}.", [], now, now))
        columns = {
            "mission": (
                "id", "owner_id", "client_organisation_id", "title", "description", "budget_kind",
                "budget_amount_minor", "currency", "starts_on", "ends_on", "city", "postal_code", "region",
                "country", "work_mode", "visibility", "status", "delivered_at", "skills_text", "created_at",
                "updated_at",
            ),
            "mission_seat": ("id", "mission_id", "position", "title", "day_rate_minor", "days"),
            "application": (
                "id", "mission_id", "seat_id", "member_id", "message", "proposed_day_rate_minor", "status",
                "created_at", "decided_at",
            ),
            "engagement": (
                "id", "mission_id", "seat_id", "member_id", "application_id", "day_rate_minor", "days",
                "starts_on", "ends_on", "created_at",
            ),
            "review": (
                "id", "mission_id", "author_id", "subject_id", "rating", "text", "skills_seen", "created_at",
                "published_at",
            ),
        }  # fmt: skip
        for table, rows in (
            ("mission", mission_rows),
            ("mission_seat", seat_rows),
            ("application", application_rows),
            ("engagement", engagement_rows),
            ("review", review_rows),
        ):
            await connection.copy_records_to_table(table, records=rows, columns=columns[table])
        await connection.execute("analyze")
    finally:
        await connection.close()
    return member, email


def settings_for(url: Any, data_dir: Path, base_url: str) -> Settings:
    return Settings(
        database_url=url.render_as_string(hide_password=False),
        COOP_DATA_DIR=data_dir,
        COOP_JWT_PRIVATE_KEYS=generate_private_key_pem(),
        COOP_PUBLIC_BASE_URL=base_url,
        COOP_LOG_LEVEL="WARNING",
        COOP_AUTH_RATE_LIMIT=10_000,
    )


async def bench(server_url: Any, *, missions: int, seats: int, work: Path) -> None:
    names = [f"coop_bench_vault_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        await _server(server_url, f'create database "{name}"')
    first, second = (with_database(server_url, name) for name in names)
    try:
        await migrations.upgrade(first)
        await migrations.upgrade(second)
        started = time.perf_counter()
        member_id, email = await load(asyncpg_dsn(first), missions=missions, seats=seats)
        records = missions * seats + missions * 2
        print(f"loaded {records} records of one member in {time.perf_counter() - started:.1f} s")

        # Raw: the same statements, fetched whole.
        connection = await asyncpg.connect(asyncpg_dsn(first))
        try:
            with PeakRss() as raw_memory:
                started = time.perf_counter()
                raw_rows = 0
                for statement in SECTION_SQL.values():
                    sql = statement.replace(":member", "$1")
                    raw_rows += len(await connection.fetch(sql, member_id))
                raw_seconds = time.perf_counter() - started
        finally:
            await connection.close()

        a_settings = settings_for(first, work / "a", "http://a.coop.test")
        b_settings = settings_for(second, work / "b", "http://b.coop.test")
        archive_path = work / "vault.zip"
        async with AsyncTestClient(create_app(a_settings, passwords=FAST), base_url="http://a.coop.test") as a:
            signed_in = await a.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
            assert signed_in.status_code == 200, signed_in.text
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            recovery = (await a.post("/api/v1/me/vault/recovery-key", headers=headers)).json()
            did = (await a.get("/.well-known/did.json")).json()
            jwks = (await a.get("/.well-known/jwks.json")).json()
            with PeakRss() as export_memory:
                started = time.perf_counter()
                export = (await a.post("/api/v1/me/vault/exports", headers=headers)).json()
                size = 0
                with archive_path.open("wb") as out:
                    async with a.stream("GET", export["download_url"], headers=headers) as response:
                        assert response.status_code == 200, await response.aread()
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)
                            size += len(chunk)
                export_seconds = time.perf_counter() - started
        with zipfile.ZipFile(archive_path) as opened:
            files = len(opened.namelist())
            manifest = opened.read("manifest.json")

        print(f"raw read:  {raw_rows} rows in {raw_seconds * 1000:.0f} ms, peak +{raw_memory.above_base_mib:.1f} MiB")
        print(
            f"export:    {records} records -> {files} files, {size / 2**20:.1f} MiB zip in {export_seconds:.2f} s "
            f"({records / export_seconds:.0f} records/s), peak +{export_memory.above_base_mib:.1f} MiB RSS"
        )
        async with AsyncTestClient(create_app(b_settings, passwords=FAST), base_url="http://b.coop.test") as b:
            admin_hash = await FAST.hash(PASSWORD)
            connection = await asyncpg.connect(asyncpg_dsn(second))
            try:
                await connection.execute(
                    "insert into account (id, email, display_name, password_hash, role, created_at)"
                    " values ($1, 'bench.admin@example.org', 'Admin', $2, 'admin', now())",
                    uuid.uuid4(),
                    admin_hash,
                )
            finally:
                await connection.close()
            signed_in = await b.post(
                "/api/v1/auth/sign-in", json={"email": "bench.admin@example.org", "password": PASSWORD}
            )
            admin = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            trusted = await b.post(
                "/api/v1/vault/trusted-issuers",
                json={"did": did["id"], "name": "A", "keys": jwks["keys"]},
                headers=admin,
            )
            assert trusted.status_code == 201, trusted.text
            proof = sign_recovery_proof(recovery["private_key_pem"], manifest, "did:web:b.coop.test")
            started = time.perf_counter()
            imported = await b.post(
                "/api/v1/vault/imports",
                content=archive_path.read_bytes(),
                headers={"content-type": "application/zip", "coop-recovery-proof": proof},
            )
            import_seconds = time.perf_counter() - started
            assert imported.status_code == 201, imported.text

        print(f"import:    {imported.json()['records']} in {import_seconds:.2f} s")
    finally:
        for name in names:
            await _server(server_url, f'drop database if exists "{name}" with (force)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--missions", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coop-vault-bench-"))
    embedded = None
    try:
        configured = os.environ.get("DATABASE_URL")
        if configured:
            server_url = to_async_url(configured)
        else:
            embedded = EmbeddedPostgres(work / "pg")
            server_url = to_async_url(embedded.start())
        asyncio.run(bench(server_url, missions=args.missions, seats=args.seats, work=work))
    finally:
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
