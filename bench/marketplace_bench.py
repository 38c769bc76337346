"""Marketplace benchmark: filtered full-text profile search and matching, API vs raw asyncpg.

    python -m bench.marketplace_bench [--profiles 100000] [--missions 20000] [--requests 300] [--concurrency 8]

It creates a fresh database (on DATABASE_URL's server, or an embedded PostgreSQL in a temporary
directory), migrates it, bulk-loads generated profiles and missions with COPY (asyncpg
`copy_records_to_table`), then starts a real `python -m app.cli serve` on a loopback port and measures:

* profile search: `GET /api/v1/profiles?q=...&region=...&rate_max=...&work_mode=...` as an admitted member,
  next to the statement the API runs (`profile_search_sql`, the same builder) sent by raw asyncpg;
* matching: `GET /api/v1/missions/{id}/matches` as the mission's owner, next to the SQL part of matching
  (`candidates_with_details_sql`: one statement per seat, the pool and what scoring reads) sent by raw
  asyncpg; the API adds the visibility checks and the scoring in Python.

`--database NAME` loads the data once into NAME, keeps it, and reuses it on later runs (loading
100,000 profiles takes one to three minutes here); `--only search|matching` measures one pair.
The report gives the server's CPU per request beside the latencies.

Latency (p50/p99) comes from sequential requests (one at a time, keep-alive); throughput from
`--concurrency` workers in a closed loop. The load generator (httpx), the server and PostgreSQL share
the machine's cores. This is a benchmark, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app.accounts.tokens import generate_private_key_pem
from app.db import migrations
from app.db.url import asyncpg_dsn, to_async_url, with_database
from app.members.repository import ProfileFilters, build_tsquery, profile_search_sql
from app.members.service import query_words
from app.missions.repository import CANDIDATE_POOL, candidates_with_details_sql

PASSWORD = "correct horse battery staple 42"
REGIONS = [
    ("Auvergne-Rhône-Alpes", [("Lyon", 45.76, 4.84), ("Grenoble", 45.19, 5.72), ("Aurillac", 44.93, 2.44)]),
    ("Île-de-France", [("Paris", 48.86, 2.35), ("Montreuil", 48.86, 2.44)]),
    ("Occitanie", [("Toulouse", 43.60, 1.44), ("Montpellier", 43.61, 3.88), ("Millau", 44.10, 3.08)]),
    ("Bretagne", [("Rennes", 48.11, -1.68), ("Brest", 48.39, -4.49), ("Morlaix", 48.58, -3.83)]),
    ("Nouvelle-Aquitaine", [("Bordeaux", 44.84, -0.58), ("Limoges", 45.83, 1.26)]),
    ("Hauts-de-France", [("Lille", 50.63, 3.06), ("Amiens", 49.89, 2.30)]),
    ("Grand Est", [("Strasbourg", 48.57, 7.75), ("Nancy", 48.69, 6.18)]),
    ("Provence-Alpes-Côte d'Azur", [("Marseille", 43.30, 5.37), ("Digne-les-Bains", 44.09, 6.24)]),
    ("Pays de la Loire", [("Nantes", 47.22, -1.55), ("Angers", 47.47, -0.55)]),
    ("Bourgogne-Franche-Comté", [("Dijon", 47.32, 5.04), ("Besançon", 47.24, 6.02)]),
]
ROLES_FR = ["Développeur", "Développeuse", "Designer", "Consultante", "Consultant", "Cheffe de projet", "Intégrateur"]
ROLES_EN = ["developer", "engineer", "designer", "consultant", "architect"]
BIO = [
    "J'accompagne les collectivités et les coopératives dans leurs projets numériques.",
    "Passionnée par les logiciels libres, l'accessibilité et la sobriété numérique.",
    "I build reliable web applications for small organisations and public services.",
    "Expérience en équipe agile, ateliers avec les utilisateurs et formation des agents.",
    "Data pipelines, dashboards and open data for energy and mobility cooperatives.",
]
SEARCHES = [
    ("développeur python", "Auvergne-Rhône-Alpes"),
    ("designer ux", "Île-de-France"),
    ("data visualisation", "Occitanie"),
    ("kubernetes engineer", "Bretagne"),
    ("wordpress seo", "Nouvelle-Aquitaine"),
    ("accessibilité collectivités", "Grand Est"),
]


# -- the database ---------------------------------------------------------------------------------


async def admin_execute(server_dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def generate(dsn: str, profiles: int, missions: int, seed: int = 7) -> dict[str, Any]:
    """Bulk-load members with profiles, skills and availability, and missions with seats."""
    rng = random.Random(seed)
    connection = await asyncpg.connect(dsn)
    try:
        skills = await connection.fetch("select id, slug, name, aliases from skill where status = 'accepted'")
        # Common skills are common: a Zipf-like weight over the référentiel.
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(skills))]
        started = time.perf_counter()
        account_ids = [uuid.uuid4() for _ in range(profiles)]
        await connection.copy_records_to_table(
            "account",
            columns=["id", "email", "display_name", "role", "member_status"],
            records=[(aid, f"m{i}@bench.coop", f"Membre {i}", "member", "member") for i, aid in enumerate(account_ids)],
        )
        profile_rows, skill_rows, availability_rows = [], [], []
        for index, account_id in enumerate(account_ids):
            region, cities = rng.choice(REGIONS)
            city, lat, lon = rng.choice(cities)
            chosen = {skills[i]["id"]: skills[i] for i in rng.choices(range(len(skills)), weights=weights, k=6)}
            names = [row["name"] for row in chosen.values()]
            text = " ".join(f"{row['name']} {' '.join(row['aliases'])}" for row in chosen.values())
            headline = (
                f"{rng.choice(ROLES_FR)} {names[0]} et {names[-1]}"
                if rng.random() < 0.6
                else f"{names[0]} {rng.choice(ROLES_EN)}"
            )
            low = rng.randrange(250, 800, 10) * 100
            profile_rows.append(
                (
                    account_id,
                    f"Membre {index}",
                    headline[:200],
                    " ".join(rng.sample(BIO, 2)),
                    low,
                    low + rng.randrange(0, 200, 10) * 100,
                    "EUR",
                    date(2030, 1, 1) + timedelta(days=rng.randrange(0, 365)),
                    city,
                    "00000",
                    region,
                    "FR",
                    lat + rng.uniform(-0.3, 0.3),
                    lon + rng.uniform(-0.3, 0.3),
                    rng.choice(("on_site", "remote", "hybrid")),
                    rng.choice((0, 20, 50, 100, 300)),
                    "[]",
                    "[]",
                    rng.choice(("public", "public", "members", "hidden")),
                    "2030-01-01T00:00:00Z",
                    text,
                )
            )
            for skill_id in chosen:
                skill_rows.append((account_id, skill_id, rng.randint(1, 5), rng.randint(0, 15), True, 0))
            start = date(2030, 1, 1) + timedelta(days=rng.randrange(0, 300))
            availability_rows.append(
                (uuid.uuid4(), account_id, start, start + timedelta(days=60), rng.choice((50, 100)))
            )
        await connection.copy_records_to_table(
            "member_profile",
            columns=[
                "account_id",
                "display_name",
                "headline",
                "bio",
                "day_rate_min_minor",
                "day_rate_max_minor",
                "currency",
                "available_from",
                "city",
                "postal_code",
                "region",
                "country",
                "latitude",
                "longitude",
                "work_mode",
                "travel_km",
                "languages",
                "links",
                "visibility",
                "published_at",
                "skills_text",
            ],
            records=[(*row[:19], _ts(row[19]), row[20]) for row in profile_rows],
        )
        await connection.copy_records_to_table(
            "profile_skill",
            columns=["profile_id", "skill_id", "level", "years", "declared", "attestations"],
            records=skill_rows,
        )
        await connection.copy_records_to_table(
            "profile_availability",
            columns=["id", "profile_id", "starts_on", "ends_on", "share_percent"],
            records=availability_rows,
        )
        owners = rng.sample(account_ids, k=min(2000, len(account_ids)))
        mission_rows, seat_rows, seat_skill_rows = [], [], []
        for index in range(missions):
            region, cities = rng.choice(REGIONS)
            city, lat, lon = rng.choice(cities)
            mission_id = uuid.uuid4()
            start = date(2030, 1, 1) + timedelta(days=rng.randrange(0, 365))
            chosen = {skills[i]["id"]: skills[i] for i in rng.choices(range(len(skills)), weights=weights, k=3)}
            names = [row["name"] for row in chosen.values()]
            owner = rng.choice(owners)
            mission_rows.append(
                (
                    mission_id,
                    owner,
                    owner,
                    f"Mission {index}: {' / '.join(names)}",
                    f"Nous cherchons {' et '.join(names)} pour un projet de {city}.",
                    "day_rate",
                    rng.randrange(300, 800, 10) * 100,
                    rng.randint(5, 60),
                    "EUR",
                    start,
                    start + timedelta(days=rng.randint(20, 120)),
                    city,
                    "",
                    region,
                    "FR",
                    lat,
                    lon,
                    rng.choice(("on_site", "remote", "hybrid")),
                    rng.choice(("public", "members")),
                    rng.choice(("open", "open", "open", "staffed", "closed")),
                    " ".join(names),
                )
            )
            for position in range(rng.choice((1, 1, 2))):
                seat_id = uuid.uuid4()
                seat_rows.append((seat_id, mission_id, position, f"Seat {position + 1}"))
                for skill_id in list(chosen)[position:]:
                    seat_skill_rows.append((seat_id, skill_id, rng.randint(2, 4)))
        await connection.copy_records_to_table(
            "mission",
            columns=[
                "id",
                "owner_id",
                "referrer_id",
                "title",
                "description",
                "budget_kind",
                "budget_amount_minor",
                "budget_days",
                "currency",
                "starts_on",
                "ends_on",
                "city",
                "postal_code",
                "region",
                "country",
                "latitude",
                "longitude",
                "work_mode",
                "visibility",
                "status",
                "skills_text",
            ],
            records=mission_rows,
        )
        await connection.copy_records_to_table(
            "mission_seat", columns=["id", "mission_id", "position", "title"], records=seat_rows
        )
        await connection.copy_records_to_table(
            "seat_skill", columns=["seat_id", "skill_id", "min_level"], records=seat_skill_rows
        )
        # The search vocabulary, as the service would have learnt it.
        await connection.execute(
            "insert into search_word (word) select distinct word from member_profile,"
            " regexp_split_to_table(lower(coop_unaccent(headline || ' ' || bio || ' ' || skills_text || ' ' || city"
            " || ' ' || region)), '[^a-z0-9]+') as word where char_length(word) between 3 and 40 on conflict do nothing"
        )
        await connection.execute("analyze")
        return {
            "load_seconds": time.perf_counter() - started,
            "profile_skills": len(skill_rows),
            "seats": len(seat_rows),
        }
    finally:
        await connection.close()


def _ts(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- measuring ------------------------------------------------------------------------------------


def summarise(name: str, durations: list[float], wall: float | None = None, count: int | None = None) -> dict:
    ordered = sorted(durations)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "name": name,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "rps": (count / wall) if wall else None,
    }


async def sequential(call: Callable[[int], Awaitable[None]], requests: int) -> list[float]:
    for index in range(max(10, requests // 10)):  # warm-up
        await call(index)
    durations = []
    for index in range(requests):
        started = time.perf_counter()
        await call(index)
        durations.append(time.perf_counter() - started)
    return durations


async def throughput(call: Callable[[int], Awaitable[None]], requests: int, concurrency: int) -> float:
    counter = iter(range(requests))

    async def worker() -> None:
        for index in counter:
            await call(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


def to_asyncpg_names(sql: str) -> tuple[str, list[str]]:
    """`:name` binds (SQLAlchemy text) -> `$n` (asyncpg), and the names in the order of their numbers."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", replace, sql), names


def to_asyncpg(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`:name` binds (SQLAlchemy text) -> `$n` (asyncpg), in order of first appearance."""
    converted, names = to_asyncpg_names(sql)
    return converted, [params[name] for name in names]


async def loaded_profiles(server_url: Any, name: str) -> int:
    """Profiles in database `name` on the server (-1 when there is no such database)."""
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        if not await connection.fetchval("select count(*) from pg_database where datname = $1", name):
            return -1
    finally:
        await connection.close()
    connection = await asyncpg.connect(asyncpg_dsn(with_database(server_url, name)))
    try:
        if await connection.fetchval("select to_regclass('member_profile')") is None:
            return 0
        return int(await connection.fetchval("select count(*) from member_profile"))
    finally:
        await connection.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children that have ended (clock ticks -> s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def serve(database_url: str, port: int) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COOP_JWT_PRIVATE_KEYS": generate_private_key_pem(),
        "COOP_AUTH_RATE_LIMIT": "1000000",
        "COOP_LOG_LEVEL": "WARNING",
        "COOP_DATA_DIR": tempfile.mkdtemp(prefix="coop-bench-data-"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_profile(directory: str, label: str, server_pid: int) -> subprocess.Popen:
    """py-spy sampling the server (200 Hz, the GIL holder only) while `label` runs; collapsed stacks."""
    target = Path(directory) / (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".txt")
    target.parent.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "--pid", str(server_pid), "--rate", "200", "--gil", "--format", "raw"]
    return subprocess.Popen([*command, "--output", str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    embedded = None
    if configured:
        server_url = to_async_url(configured)
    else:
        from app.db.embedded import EmbeddedPostgres

        data_dir = Path(tempfile.mkdtemp(prefix="coop-bench-pg-"))
        embedded = EmbeddedPostgres(data_dir)
        server_url = to_async_url(embedded.start())
    name = args.database or f"coop_bench_mkt_{uuid.uuid4().hex[:8]}"
    url = with_database(server_url, name)
    dsn = asyncpg_dsn(url)
    reused = args.database is not None and await loaded_profiles(server_url, name) > 0
    if not (args.database is not None and await loaded_profiles(server_url, name) >= 0):
        await admin_execute(asyncpg_dsn(server_url), f'create database "{name}"')
    process = None
    try:
        await migrations.upgrade(url)
        if reused:
            print(f"reusing database {name} ({await loaded_profiles(server_url, name):,} profiles)", flush=True)
        else:
            print(f"generating {args.profiles:,} profiles and {args.missions:,} missions...", flush=True)
            loaded = await generate(dsn, args.profiles, args.missions)
            print(
                f"loaded in {loaded['load_seconds']:.1f} s ({loaded['profile_skills']:,} profile skills,"
                f" {loaded['seats']:,} seats)",
                flush=True,
            )
        port = free_port()
        process = serve(url.render_as_string(hide_password=False), port)
        base = f"http://127.0.0.1:{port}"
        results = await measure(base, dsn, args, process.pid)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        if args.database is None:
            await admin_execute(asyncpg_dsn(server_url), f'drop database if exists "{name}" with (force)')
        if embedded is not None:
            embedded.stop()
            shutil.rmtree(embedded.data_dir, ignore_errors=True)
    report(results, args)


async def measure(base: str, dsn: str, args: argparse.Namespace, server_pid: int) -> list[dict]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        for _ in range(300):
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        member, client_account = await accounts(http, dsn)
        pool = await asyncpg.create_pool(dsn, min_size=args.concurrency, max_size=args.concurrency)
        mission_id = await pool.fetchval(
            "select m.id from mission m join mission_seat s on s.mission_id = m.id where m.status = 'open'"
            " group by m.id having count(*) = 2 order by m.id limit 1"
        )
        await pool.execute("update mission set owner_id = $1 where id = $2", client_account["id"], mission_id)

        def search_params(index: int) -> dict[str, Any]:
            q, region = SEARCHES[index % len(SEARCHES)]
            return {"q": q, "region": region, "rate_max": 60000, "work_mode": ["hybrid", "remote"], "limit": 20}

        async def api_search(index: int) -> None:
            response = await http.get("/api/v1/profiles", params=search_params(index), headers=member)
            assert response.status_code == 200, response.text

        raw_statements = []
        for q, region in SEARCHES:
            filters = ProfileFilters(
                visibilities=("public", "members"),
                tsquery=build_tsquery([[word] for word in query_words(q)]),
                rate_max=60000,
                region=region,
                work_modes=("hybrid", "remote"),
                limit=20,
            )
            raw_statements.append(to_asyncpg(*profile_search_sql(filters)))

        async def raw_search(index: int) -> None:
            sql, values = raw_statements[index % len(raw_statements)]
            async with pool.acquire() as connection:
                await connection.fetch(sql, *values)

        async def api_matching(index: int) -> None:
            response = await http.get(f"/api/v1/missions/{mission_id}/matches", headers=client_account["headers"])
            assert response.status_code == 200, response.text

        seats = await pool.fetch(
            "select s.id, array_agg(ss.skill_id) as skills, array_agg(ss.min_level) as levels from mission_seat s"
            " join seat_skill ss on ss.seat_id = s.id where s.mission_id = $1 group by s.id",
            mission_id,
        )
        # The API's own statements (`candidates_with_details_sql`: the pool and what scoring reads, per
        # seat), completed with members below the levels when too few meet them, as the API does.
        strict_sql, strict_names = to_asyncpg_names(candidates_with_details_sql(required=True))
        loose_sql, loose_names = to_asyncpg_names(candidates_with_details_sql(required=True, strict=False))

        async def raw_matching(index: int) -> None:
            async with pool.acquire() as connection:
                for seat in seats:
                    values = {
                        "skill_ids": list(seat["skills"]),
                        "min_levels": list(seat["levels"]),
                        "wide": CANDIDATE_POOL * 5,
                        "visibilities": ["public"],
                        "excluded": [client_account["id"]],
                        "pool": CANDIDATE_POOL,
                    }
                    rows = await connection.fetch(strict_sql, *(values[name] for name in strict_names))
                    if len(rows) < CANDIDATE_POOL:
                        values["excluded"] = [client_account["id"], *(row[0] for row in rows)]
                        await connection.fetch(loose_sql, *(values[name] for name in loose_names))

        sample = await http.get("/api/v1/profiles", params=search_params(0), headers=member)
        print(f"sample search: total={sample.json()['total']}", flush=True)
        results = []
        scenarios = (
            ("search", "profile search, API", api_search),
            ("search", "profile search, raw asyncpg", raw_search),
            ("matching", "matching (2 seats), API", api_matching),
            ("matching", "matching SQL (2 seats), raw asyncpg", raw_matching),
        )
        for kind, label, call in scenarios:
            if args.only not in (None, kind):
                continue
            before, load_before = cpu_seconds(server_pid), os.getloadavg()[0]
            spy = start_profile(args.profile, label, server_pid) if args.profile and "API" in label else None
            durations = await sequential(call, args.requests)
            rps = await throughput(call, args.requests, args.concurrency)
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
                spy.wait(timeout=60)
            # The server's CPU per request (warm-up included in both the time and the count): the
            # figure least disturbed by the other processes on the machine. Raw rows do not use it.
            server_ms = (cpu_seconds(server_pid) - before) * 1000 / (2 * args.requests + max(10, args.requests // 10))
            load = (load_before + os.getloadavg()[0]) / 2
            results.append({**summarise(label, durations), "rps": rps, "server_ms": server_ms, "load": load})
            print(f"  measured {label}", flush=True)
        await pool.close()
        return results


async def accounts(http: httpx.AsyncClient, dsn: str) -> tuple[dict[str, str], dict[str, Any]]:
    """An admitted member (search) and a client owning the measured mission (matching), via the API."""
    member_email, client_email = f"bench.{uuid.uuid4().hex[:6]}@coop.example", f"c.{uuid.uuid4().hex[:6]}@coop.example"
    response = await http.post(
        "/api/v1/auth/register",
        json={"email": member_email, "password": PASSWORD, "display_name": "Bench Member", "role": "member"},
    )
    assert response.status_code == 201, response.text
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("update account set member_status = 'member' where email = $1", member_email)
    finally:
        await connection.close()
    response = await http.post(
        "/api/v1/auth/register",
        json={
            "email": client_email,
            "password": PASSWORD,
            "display_name": "Bench Client",
            "role": "client",
            "organisation": {"legal_name": "Bench SAS", "registration_number": "732829320", "billing_address": "Lyon"},
        },
    )
    assert response.status_code == 201, response.text
    client_id = uuid.UUID(response.json()["id"])
    headers = []
    for email in (member_email, client_email):
        tokens = (await http.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})).json()
        headers.append({"Authorization": f"Bearer {tokens['access_token']}"})
    return headers[0], {"id": client_id, "headers": headers[1]}


def report(results: list[dict], args: argparse.Namespace) -> None:
    print()
    print(
        f"{args.profiles:,} profiles, {args.missions:,} missions; {args.requests} sequential requests for latency,"
        f" {args.requests} at concurrency {args.concurrency} for throughput"
    )
    print(f"{'scenario':<38} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'server CPU ms/req':>18} {'load':>5}")
    for row in results:
        server = f"{row['server_ms']:.1f}" if "API" in row["name"] else "-"
        print(
            f"{row['name']:<38} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['rps']:>8.0f} {server:>18}"
            f" {row['load']:>5.1f}"
        )
    for api, raw in zip(results[::2], results[1::2], strict=True):
        print(
            f"{api['name']}: p50 x{api['p50_ms'] / raw['p50_ms']:.2f}, p99 x{api['p99_ms'] / raw['p99_ms']:.2f},"
            f" throughput x{raw['rps'] / api['rps']:.2f} of raw"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--missions", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--database",
        default=None,
        help="use this database: generated on the first run, kept afterwards and reused as it is by later runs",
    )
    parser.add_argument("--only", choices=["search", "matching"], default=None, help="measure one scenario pair")
    parser.add_argument(
        "--profile",
        metavar="DIRECTORY",
        default=None,
        help="record each API scenario with py-spy (must be on PATH) into DIRECTORY, as collapsed stacks",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
