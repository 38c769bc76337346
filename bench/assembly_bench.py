"""Assembly benchmark: a 10,000-member electorate casting in a burst through the HTTP API.

    python -m bench.assembly_bench [--members N] [--concurrency C] [--workers W]

It starts a PostgreSQL (DATABASE_URL, or an embedded one), a fresh migrated database, and a real
`coop serve` process. N admitted members are written straight into the database, each with a live
session and an access token signed with the server's key (signing in N members through Argon2 would
measure Argon2). Through the API, an administrator drafts a decision between assemblies and opens it
(the electorate of N members is frozen then); once the opening mails are out, every member casts one
secret ballot, C at a time, on keep-alive connections. Then the chair closes the vote, and the
database is read to count the ballots lost (acknowledged with a 201 but not counted) and duplicated
(two register rows, or two counted ballots, for one member). Then, with the server stopped, the same
members cast into a second open vote through the application's own code without HTTP (`work_burst`:
token, session, transaction, cryptography, receipt), and raw asyncpg writes the same rows per ballot
(register + audit event, one transaction each, C connections) into a third: the two limits the API
is compared with.

This is a benchmark, not a test: nothing here asserts a timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.api_bench import HOST, Connection, CpuMeter, parent_if_postgres, postgres, sampling_profile, serve

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Burst:
    name: str
    ballots: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    cpu: Any

    @property
    def rate(self) -> float:
        return self.ballots / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def seed(dsn: str, members: int, pem: str) -> tuple[list[str], str]:
    """N admitted members and an administrator, with sessions and access tokens."""
    import asyncpg

    from app.accounts.tokens import AccessClaims, SigningKeys

    keys = SigningKeys([pem], issuer="http://127.0.0.1:8000", ttl=timedelta(hours=1))
    ids = [uuid.uuid4() for _ in range(members + 1)]
    sessions = [uuid.uuid4() for _ in ids]
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "account",
            records=[
                (
                    account_id,
                    f"bench.{i}@coop.example",
                    f"Bench Member {i}",
                    "admin" if i == members else "member",
                    None if i == members else "member",
                    datetime.now(UTC),
                )
                for i, account_id in enumerate(ids)
            ],
            columns=["id", "email", "display_name", "role", "member_status", "email_verified_at"],
        )
        columns = {
            row["column_name"]
            for row in await connection.fetch(
                "select column_name from information_schema.columns where table_name = 'auth_session'"
            )
        }
        expires = datetime.now(UTC) + timedelta(days=1)
        extra = ["expires_at"] if "expires_at" in columns else []
        await connection.copy_records_to_table(
            "auth_session",
            records=[(s, a, *([expires] if extra else [])) for s, a in zip(sessions, ids, strict=True)],
            columns=["id", "account_id", *extra],
        )
    finally:
        await connection.close()
    tokens = [
        keys.issue(AccessClaims(account_id=a, session_id=s, role="admin" if i == members else "member"))
        for i, (a, s) in enumerate(zip(ids, sessions, strict=True))
    ]
    return tokens[:members], tokens[members]


def request(method: str, path: str, token: str, body: dict | None = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def call(port: int, method: str, path: str, token: str, body: dict | None = None) -> dict:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=120) as client:
        response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()


async def wait_outbox_empty(dsn: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        while await connection.fetchval("select count(*) from mail_outbox where sent_at is null"):  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def burst(
    port: int, proposal: str, tokens: list[str], concurrency: int, meter: CpuMeter
) -> tuple[Burst, set[int]]:
    queue = list(enumerate(tokens))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    acknowledged: set[int] = set()
    path = f"/api/v1/proposals/{proposal}/ballots"
    choices = ["yes", "no", "abstain", "yes"]

    async def worker() -> None:
        connection = Connection(port, b"")
        while queue:
            index, token = queue.pop()
            connection.request = request("POST", path, token, {"choice": choices[index % 4]})
            started = time.perf_counter()
            status = await connection.get()
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 201:
                acknowledged.add(index)
        await connection.close()

    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu = meter.stop(seconds)
    return Burst("API POST /ballots", len(tokens), seconds, latencies, statuses, cpu), acknowledged


CIPHERTEXT_BYTES = 130  # an HPKE-sealed motion ballot: 32-byte encapsulated key, ~82-byte JSON, 16-byte tag


def encryption_cost(count: int = 10_000) -> float:
    """Microseconds to seal one ballot to an election key (HPKE X25519/AES-128-GCM), in this process."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from app.assemblies.secrecy import ElectionKeys, new_tracker, public_bytes

    public = public_bytes(X25519PrivateKey.generate().public_key())
    proposal, voter = uuid.uuid4(), uuid.uuid4()
    content = {"college": None, "choice": "yes", "reason": None, "tracker": new_tracker()}
    started = time.perf_counter()
    for _ in range(count):
        ElectionKeys.encrypt(public, proposal, voter, content)
    return (time.perf_counter() - started) / count * 1e6


async def raw_burst(dsn: str, proposal: uuid.UUID, voters: list[uuid.UUID], concurrency: int, meter: CpuMeter) -> Burst:
    """The same rows per ballot (register row with a ciphertext-sized ballot and its seal, audit event),
    one transaction each, through asyncpg; the encryption itself is measured apart (`encryption_cost`)."""
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    queue = list(voters)
    latencies: list[float] = []
    sql_register = (
        "insert into ballot_register (proposal_id, voter_id, channel, cast_at, changes, ballot, seal) "
        "values ($1, $2, 'online', clock_timestamp(), 0, $3, $4) on conflict (proposal_id, voter_id) "
        "do update set cast_at = clock_timestamp(), changes = ballot_register.changes + 1, "
        "ballot = excluded.ballot, seal = excluded.seal"
    )
    sql_event = (
        "insert into audit_event (uid, at, kind, proposal_id, data, digest) "
        "values ($1, now(), 'ballot.cast', $2, $3, $4)"
    )

    async def worker() -> None:
        async with pool.acquire() as connection:
            while queue:
                voter = queue.pop()
                started = time.perf_counter()
                async with connection.transaction():
                    digest = hashlib.sha256(voter.bytes).digest()
                    await connection.execute(sql_register, proposal, voter, os.urandom(CIPHERTEXT_BYTES), digest)
                    await connection.execute(
                        sql_event, uuid.uuid4(), proposal, json.dumps({"voter": str(voter)}), digest
                    )
                latencies.append(time.perf_counter() - started)

    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu = meter.stop(seconds)
    await pool.close()
    return Burst("raw asyncpg, same rows", len(voters), seconds, latencies, {201: len(voters)}, cpu)


async def work_burst(
    database_url: Any, proposal: uuid.UUID, tokens: list[str], pem: str, concurrency: int, meter: CpuMeter
) -> Burst:
    """The API's own work per ballot without HTTP and Litestar, through the application's code: the
    bearer token's Ed25519 verification and session query, the cast's transaction as the repository
    runs it (BEGIN with the shared cast lock, the facts, the write of register row and audit event,
    COMMIT), the audit digest, HPKE sealing, the HMAC seal and the receipt's signature. What the API
    costs above this row is the web framework and the server; below the raw row, this application's
    reads and cryptography."""
    from app.accounts.repository import active_account_for_session
    from app.accounts.tokens import SigningKeys
    from app.assemblies.audit import event_fields
    from app.assemblies.repository import CAST_LOCKS, CastBox, lock_key
    from app.assemblies.secrecy import BallotSeals, ElectionKeys, ReceiptSigner, new_tracker
    from app.db.engine import open_database
    from app.settings import Settings

    database = open_database(Settings(), database_url)
    keys = SigningKeys([pem], issuer="http://127.0.0.1:8000", ttl=timedelta(hours=1))
    seals, signer = BallotSeals(os.urandom(32).hex()), ReceiptSigner(pem)
    lock = f"select pg_advisory_xact_lock_shared({CAST_LOCKS}, {lock_key(proposal)})"
    queue = list(enumerate(tokens))
    latencies: list[float] = []
    choices = ["yes", "no", "abstain", "yes"]

    async def one(index: int, token: str) -> None:
        claims = keys.verify(token)
        assert claims is not None
        account = await active_account_for_session(database, claims.account_id, claims.session_id)
        assert account is not None
        async with database.transaction(lock) as connection:
            box = CastBox(connection, own_transaction=True)
            facts = await box.facts(proposal, account.id, account.id)
            assert facts is not None and facts["voter_eligible"] and facts["state"] == "open"
            tracker = new_tracker()
            choice = choices[index % 4]
            content = {"college": facts["voter_college"], "choice": choice, "reason": None, "tracker": tracker}
            sealed = ElectionKeys.encrypt(facts["election_public_key"], proposal, account.id, content)
            event = event_fields(
                "ballot.cast",
                actor_id=account.id,
                assembly_id=facts["assembly_id"],
                proposal_id=proposal,
                data={"voter": str(account.id), "channel": "online"},
            )
            written = await box.write(
                proposal=proposal,
                voter=account.id,
                channel="online",
                cast_by=None,
                ballot=sealed,
                seal=seals.seal(proposal, account.id, sealed),
                correction=False,
                uid=event.uid,
                at=event.at,
                kind=event.kind,
                caster=account.id,
                assembly=facts["assembly_id"],
                data=event.data,
                digest=event.digest,
            )
        assert written is not None
        cast_at, order = written
        signer.sign(
            {
                "proposal_id": str(proposal),
                "voter_id": str(account.id),
                "channel": "online",
                "tracker": tracker,
                "cast_at": cast_at.isoformat(),
                "order": order,
            }
        )

    async def worker() -> None:
        while queue:
            index, token = queue.pop()
            started = time.perf_counter()
            await one(index, token)
            latencies.append(time.perf_counter() - started)

    await one(*queue.pop())  # opens the pools
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu = meter.stop(seconds)
    await database.dispose()
    return Burst("same work, no HTTP", len(tokens) - 1, seconds, latencies, {201: len(tokens) - 1}, cpu)


async def scenario(options: argparse.Namespace, url: str, work: Path) -> None:
    import asyncpg

    from app.accounts.tokens import generate_private_key_pem
    from app.db import migrations
    from app.db.url import asyncpg_dsn, to_async_url, with_database

    server_url = to_async_url(url)
    name = f"coop_bench_asm_{uuid.uuid4().hex[:8]}"
    admin_connection = await asyncpg.connect(asyncpg_dsn(server_url))
    await admin_connection.execute(f'create database "{name}"')
    await admin_connection.close()
    database_url = with_database(server_url, name)
    dsn = asyncpg_dsn(database_url)
    try:
        await migrations.upgrade(database_url)
        pem = generate_private_key_pem()
        print(f"seeding {options.members} members ...", flush=True)
        tokens, admin_token = await seed(dsn, options.members, pem)
        env = {
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "COOP_JWT_PRIVATE_KEYS": pem,
            "COOP_DATA_DIR": str(work / "data"),
            "COOP_LOG_LEVEL": "WARNING",
            "COOP_AUTH_RATE_LIMIT": "1000000",
            "COOP_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            "COOP_CONVOCATION_NOTICE_DAYS": "0",
        }
        os.environ.pop("SMTP_HOST", None)
        with serve("uvicorn", "api", options.workers, env, work) as server:
            closes = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            statutes = {"preset": "scop_sarl", "chair_may_close_early": True, "chair_may_open_early": True}
            await call(server.port, "PUT", "/api/v1/statutes", admin_token, statutes)
            proposal = await call(
                server.port,
                "POST",
                "/api/v1/proposals",
                admin_token,
                {"title": "Bench motion", "text": "Adopt.", "closes_at": closes},
            )
            # A second vote for the `same work, no HTTP` row, opened through the API like the first.
            without_http = await call(
                server.port,
                "POST",
                "/api/v1/proposals",
                admin_token,
                {"title": "Bench motion, cast without HTTP", "text": "Adopt.", "closes_at": closes},
            )
            started = time.perf_counter()
            await call(server.port, "POST", f"/api/v1/proposals/{proposal['id']}/open", admin_token)
            print(
                f"opened (electorate of {options.members} frozen) in {time.perf_counter() - started:.2f} s", flush=True
            )
            await call(server.port, "POST", f"/api/v1/proposals/{without_http['id']}/open", admin_token)
            await wait_outbox_empty(dsn)
            connection = await asyncpg.connect(dsn)
            postgres_pid = parent_if_postgres(await connection.fetchval("select pg_backend_pid()"))
            await connection.close()
            meter = CpuMeter(server.process.pid, postgres_pid)
            # Warm-up: a few ballots from the last members, cast again in the burst (changes, not new rows).
            await burst(server.port, proposal["id"], tokens[-options.concurrency :], options.concurrency, meter)
            print(f"burst: {options.members} ballots, {options.concurrency} at a time ...", flush=True)
            with sampling_profile(options.profile, server, "/ballots"):
                api, acknowledged = await burst(server.port, proposal["id"], tokens, options.concurrency, meter)
            closing = time.perf_counter()
            await call(server.port, "POST", f"/api/v1/proposals/{proposal['id']}/close", admin_token)
            close_seconds = time.perf_counter() - closing
            connection = await asyncpg.connect(dsn)
            try:
                pid = uuid.UUID(proposal["id"])
                registered = await connection.fetchval(
                    "select count(*) from ballot_register where proposal_id = $1", pid
                )
                distinct = await connection.fetchval(
                    "select count(distinct voter_id) from ballot_register where proposal_id = $1", pid
                )
                published = await connection.fetchval(
                    "select count(*) from published_ballot where proposal_id = $1", pid
                )
                counted = await connection.fetchval(
                    "select (result->'participation'->>'counted')::int from proposal where id = $1", pid
                )
                voters = [row["id"] for row in await connection.fetch("select id from account where role = 'member'")]
                raw_proposal = uuid.uuid4()
                await connection.execute(
                    "insert into proposal (id, kind, title, text, method, options, settings, secret, "
                    "results_visible, state, initiative) "
                    "values ($1, 'ordinary', 'raw', 'raw', 'motion', '[]', '{}', true, false, 'open', false)",
                    raw_proposal,
                )
            finally:
                await connection.close()
        print("the same work without HTTP, then raw asyncpg ...", flush=True)
        work_row = await work_burst(
            database_url,
            uuid.UUID(without_http["id"]),
            tokens,
            pem,
            options.concurrency,
            CpuMeter(None, postgres_pid),
        )
        raw = await raw_burst(dsn, raw_proposal, voters, options.concurrency, CpuMeter(None, postgres_pid))
        lost = len(acknowledged) - counted
        duplicated = (registered - distinct) + max(0, published - registered)
        report(options, api, work_row, raw, acknowledged, counted, lost, duplicated)
        sealing = encryption_cost()
        print(f"sealing one ballot (HPKE): {sealing:.0f} us; close (decrypt, count, publish): {close_seconds:.2f} s")
    finally:
        admin_connection = await asyncpg.connect(asyncpg_dsn(server_url))
        await admin_connection.execute(f'drop database if exists "{name}" with (force)')
        await admin_connection.close()


def report(
    options, api: Burst, work_row: Burst, raw: Burst, acknowledged: set[int], counted: int, lost: int, duplicated: int
) -> None:
    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{options.members} members, {options.concurrency} connections, {options.workers} worker(s)"
    )
    print(f"{'scenario':<26} {'ballots/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  cpu (cores)")
    for row in (api, work_row, raw):
        cpu = " ".join(
            f"{k} {getattr(row.cpu, k):.2f}"
            for k in ("client", "server", "postgres", "other")
            if getattr(row.cpu, k) is not None
        )
        print(
            f"{row.name:<26} {row.rate:>10.0f} {row.pct(0.5):>8.1f} {row.pct(0.99):>8.1f} "
            f"{max(row.latencies) * 1000 if row.latencies else 0:>8.1f}  {cpu}"
        )
    print(f"API / raw asyncpg: {api.rate / raw.rate:.0%}; API / same work, no HTTP: {api.rate / work_row.rate:.0%}")
    if api.cpu.server is not None:  # the figure least disturbed by other processes on the machine
        print(f"server CPU per ballot: {api.cpu.server / api.rate * 1e6:.0f} us", end="")
        if work_row.cpu.client is not None:
            print(f"; without HTTP {work_row.cpu.client / work_row.rate * 1e6:.0f} us", end="")
        print()
    if api.cpu.other is not None:
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"statuses: {api.statuses}")
    print(f"acknowledged (201): {len(acknowledged)}, counted at the close: {counted}")
    print(f"ballots lost: {lost}, duplicated: {duplicated}")
    if api.latencies:
        print(f"mean latency {statistics.mean(api.latencies) * 1000:.1f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.assembly_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR", help="py-spy profile of the burst, in DIR")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coop-asm-bench-") as tmp:
        work = Path(tmp)
        with postgres(work) as url:
            asyncio.run(scenario(options, url, work))


if __name__ == "__main__":
    main()
