"""Payments benchmark: signed Stripe webhooks into a real `coop serve`, and gap-free invoice numbering
under concurrent issuers.

    python -m bench.payments_bench [--events N] [--duplicates F] [--concurrency C] [--issuers I]

It starts a PostgreSQL (DATABASE_URL, or an embedded one), a fresh migrated database and a real
`coop serve` process. N x (1 - F) payments are seeded straight into the database (a billed milestone
each, with a recorded PaymentIntent). Then N signed `payment_intent.succeeded` deliveries (a share F
of them duplicates), shuffled, are posted to the webhook endpoint from C connections: the figures are
deliveries acknowledged per second, the acknowledgement's p50/p99, events applied per second by the
background worker (until the inbox is empty; and, once the deliveries stop, the rate at which the
worker alone empties what is left), and the postings made, which must equal the distinct payments.
Raw asyncpg then writes the same rows (inbox row + ledger transaction + two entries, one transaction
per event, C connections) as the ceiling. Finally I issuers issue invoices at once (10
each): the numbers must run 1..10*I with no gap and no duplicate.

This is a benchmark, not a test: nothing here asserts a timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.api_bench import postgres, serve

SECRET = "whsec_bench"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def signed(intent_id: str, amount: int, event_id: str) -> tuple[bytes, dict[str, str]]:
    created = int(time.time())
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "created": created,
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": intent_id, "object": "payment_intent", "status": "succeeded", "amount": amount}},
        }
    ).encode()
    signature = hmac.new(SECRET.encode(), f"{created}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={created},v1={signature}", "Content-Type": "application/json"}


async def seed(database_url, settings, count: int):  # type: ignore[no-untyped-def]
    """`count` billed milestones (the rows the property tests use), spread over 20 members."""
    from app.db.engine import open_database
    from tests.integration.payments import factories

    database = open_database(settings, database_url)
    billed = []
    try:
        async with database.sessionmaker() as session, session.begin():
            members = [await factories.member(session) for _ in range(20)]
            client = await factories.customer(session)
        for start in range(0, count, 200):
            async with database.sessionmaker() as session, session.begin():
                for i in range(start, min(count, start + 200)):
                    billed.append(
                        await factories.billed_milestone(
                            session, settings, worker=members[i % 20], client=client, amount_ht_minor=10_000 + i
                        )
                    )
    finally:
        await database.dispose()
    return billed


async def post_all(port: int, deliveries: list[tuple[bytes, dict[str, str]]], concurrency: int):  # type: ignore[no-untyped-def]
    import httpx

    queue = list(deliveries)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            body, headers = queue.pop()
            started = time.perf_counter()
            response = await client.post("/api/v1/payments/stripe/webhook", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses


async def raw_inserts(dsn: str, billed, concurrency: int) -> float:  # type: ignore[no-untyped-def]
    """The same rows through asyncpg alone: inbox row, transaction, two entries; one transaction each."""
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    for code, kind in (("treasury", "asset"), ("contributions", "revenue")):
        await pool.execute(
            "insert into ledger_account (id, code, kind, name) values ($1, $2, $3, $2) on conflict (code) do nothing",
            uuid.uuid4(),
            code,
            kind,
        )
    accounts = await pool.fetch(
        "select id from ledger_account where code in ('treasury', 'contributions') order by code"
    )
    debit, credit = accounts[1]["id"], accounts[0]["id"]
    queue = list(billed)

    async def worker() -> None:
        async with pool.acquire() as connection:
            while queue:
                item = queue.pop()
                async with connection.transaction():
                    await connection.execute(
                        "insert into webhook_event (event_id, type, payload, attempts, processed_at)"
                        " values ($1, 'raw', '{}', 1, now()) on conflict do nothing",
                        f"evt_raw_{item.payment_id.hex}",
                    )
                    txn = uuid.uuid4()
                    await connection.execute(
                        "insert into ledger_transaction (id, kind, external_ref, memo, occurred_at)"
                        " values ($1, 'payout', $2, '', now())",
                        txn,
                        f"raw_{item.payment_id.hex}",
                    )
                    await connection.executemany(
                        "insert into ledger_entry (transaction_id, account_id, amount_minor) values ($1, $2, $3)",
                        [(txn, debit, item.amount_minor), (txn, credit, -item.amount_minor)],
                    )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return len(billed) / elapsed


async def numbering(database_url, settings, issuers: int, each: int) -> tuple[float, list[int]]:  # type: ignore[no-untyped-def]
    """`issuers` concurrent sessions each issuing `each` invoices (one transaction per invoice)."""
    from app.db.engine import open_database
    from app.db.transaction import UnitOfWork
    from app.payments import invoicing
    from app.payments.service import PaymentsService
    from tests.integration.payments import factories

    database = open_database(settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            worker = await factories.member(session)
            client = await factories.customer(session)
            targets = []
            for _ in range(issuers * each):
                billed = await factories.billed_milestone(
                    session, settings, worker=worker, client=client, amount_ht_minor=1000, invoiced=False
                )
                targets.append(billed.milestone_id)
        numbers: list[int] = []

        async def issuer(batch: list[uuid.UUID]) -> None:
            for milestone_id in batch:
                async with database.sessionmaker() as session, session.begin():
                    service = PaymentsService(UnitOfWork(session), settings)
                    milestone, quote = await service.repository.milestone(milestone_id)  # type: ignore[misc]
                    line = invoicing.Line("Bench", 1, 1000, 2000)
                    issued = await service._issue(kind="invoice", quote=quote, milestone=milestone, lines=[line])
                    numbers.append(issued.number)

        started = time.perf_counter()
        await asyncio.gather(*(issuer(targets[i::issuers]) for i in range(issuers)))
        return len(numbers) / (time.perf_counter() - started), numbers
    finally:
        await database.dispose()


async def scenario(options: argparse.Namespace, url: str, work: Path) -> None:
    import asyncpg

    from app.accounts.tokens import generate_private_key_pem
    from app.db import migrations
    from app.db.url import asyncpg_dsn, to_async_url, with_database
    from app.settings import Settings

    server_url = to_async_url(url)
    name = f"coop_bench_pay_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    await admin.execute(f'create database "{name}"')
    await admin.close()
    database_url = with_database(server_url, name)
    dsn = asyncpg_dsn(database_url)
    try:
        await migrations.upgrade(database_url)
        pem = generate_private_key_pem()
        settings = Settings(database_url=database_url.render_as_string(hide_password=False), COOP_JWT_PRIVATE_KEYS=pem)
        distinct = round(options.events * (1 - options.duplicates))
        print(f"seeding {distinct} payments ...", flush=True)
        billed = await seed(database_url, settings, distinct)
        deliveries = [signed(b.intent_id, b.amount_minor, f"evt_{b.payment_id.hex}") for b in billed]
        rng = random.Random(7)
        deliveries += [rng.choice(deliveries) for _ in range(options.events - distinct)]
        rng.shuffle(deliveries)
        env = {
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "COOP_JWT_PRIVATE_KEYS": pem,
            "COOP_DATA_DIR": str(work / "data"),
            "COOP_LOG_LEVEL": "WARNING",
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "COOP_PAYMENTS_TICK_SECONDS": "0.5",
        }
        with serve("uvicorn", "api", 1, env, work):
            pass  # warm the imports' caches; the measured server starts below
        with serve("uvicorn", "api", 1, env, work) as server:
            started = time.perf_counter()
            seconds, latencies, statuses = await post_all(server.port, deliveries, options.concurrency)
            connection = await asyncpg.connect(dsn)
            try:
                pending = "select count(*) from webhook_event where processed_at is null"
                left_at_last_ack, last_ack = await connection.fetchval(pending), time.perf_counter()
                while await connection.fetchval(pending):  # noqa: ASYNC110 - polling another process's work
                    await asyncio.sleep(0.05)
                applied = time.perf_counter() - started
                alone = time.perf_counter() - last_ack
                postings = await connection.fetchval(
                    "select count(*) from ledger_transaction where kind = 'client_payment'"
                )
                stored = await connection.fetchval("select count(*) from webhook_event")
            finally:
                await connection.close()
        raw = await raw_inserts(dsn, billed, options.concurrency)
        rate, numbers = await numbering(database_url, settings, options.issuers, 10)
        expected = list(range(min(numbers), min(numbers) + options.issuers * 10))  # after the seeded invoices
        print()
        duplicated = options.events - distinct
        print(f"webhooks: {options.events} deliveries ({duplicated} duplicates), {options.concurrency} connections")
        print(f"  acknowledged      {options.events / seconds:8.0f} /s   statuses {statuses}")
        p50, p99 = statistics.median(latencies) * 1000, _pct(latencies, 0.99)
        print(f"  ack latency       p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
        print(
            f"  applied           {distinct / applied:8.0f} events/s (first delivery to empty inbox: {applied:.1f} s)"
        )
        if left_at_last_ack:
            print(
                f"  worker alone      {left_at_last_ack / alone:8.0f} events/s"
                f" ({left_at_last_ack} left at the last acknowledgement, applied in {alone:.1f} s)"
            )
        print(f"  inbox rows        {stored} (distinct events: {distinct})")
        posted = "OK" if postings == distinct else "WRONG"
        print(f"  postings          {postings} (distinct payments: {distinct}) {posted}")
        print(f"  raw asyncpg       {raw:8.0f} events/s (same rows, no HTTP, no checks)")
        print(f"invoice numbering: {options.issuers} concurrent issuers x 10")
        print(f"  issued            {rate:8.0f} invoices/s")
        verdict = "OK: no gap, no duplicate" if sorted(numbers) == expected else "WRONG"
        span = f"{min(numbers)}..{max(numbers)}, {len(set(numbers))} distinct of {len(numbers)}"
        print(f"  numbers           {span}: {verdict}")
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(server_url))
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.payments_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--issuers", type=int, default=32)
    options = parser.parse_args(argv)
    os.environ.pop("SMTP_HOST", None)
    with tempfile.TemporaryDirectory(prefix="coop-pay-bench-") as tmp:
        work = Path(tmp)
        with postgres(work) as url:
            asyncio.run(scenario(options, url, work))


if __name__ == "__main__":
    main()
