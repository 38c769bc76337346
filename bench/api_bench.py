"""API benchmark: a framework hello-world, raw asyncpg and authenticated `GET /api/v1/me`, in one run.

    python -m bench.api_bench [--requests N] [--concurrency C] [--server uvicorn|granian|both] [--workers W]

It starts everything it measures on loopback ports: a PostgreSQL (the one in DATABASE_URL, or an
embedded one in a temporary directory) with a fresh, migrated database; a one-route Litestar
hello-world (`bench.api_bench:hello_app`) and the real API, both served by the same server software
with the same worker count. One member is registered and signed in through the API; then:

* hello-world: `GET /hello` on the bare Litestar app: the framework + server ceiling;
* raw asyncpg: `select * from account where id = $1` through an asyncpg pool: the database ceiling;
* `GET /api/v1/me` with the member's bearer token: JWT verification, one session query, serialisation.

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
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from litestar import Litestar, get

# Heavier imports (the application, asyncpg, httpx, pgserver) are made inside functions: the
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
    """Peak resident set (VmHWM) of each process of a server's tree, in MiB."""

    peaks: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.peaks.values())

    def describe(self) -> str:
        parts = " + ".join(f"{peak:.0f}" for peak in self.peaks.values())
        count = len(self.peaks)
        return f"{self.total:.0f} MiB ({count} process{'es' if count > 1 else ''}: {parts})"


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
            *(sys.executable, "-m", "uvicorn", "bench.api_bench:hello_app"),
            *("--host", HOST, "--port", str(port), "--workers", str(workers)),
            *("--no-access-log", "--no-server-header", "--log-level", "warning"),
        ]
    app = ("--factory", "app.main:create_app") if target == "api" else ("bench.api_bench:hello_app",)
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi"),
        *("--host", HOST, "--port", str(port), "--workers", str(workers)),
        *("--no-access-log", "--log-level", "warning", "--working-dir", str(ROOT)),
        *app,
    ]


@contextlib.contextmanager
def serve(software: str, target: str, workers: int, env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    import httpx

    port = free_port()
    log = log_dir / f"{software}-{target}.log"
    ready_path = "/health/ready" if target == "api" else "/hello"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            server_command(software, target, port, workers),
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"{software} {target}", process, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(server.base + ready_path, timeout=1).status_code == 200:
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


@dataclass
class ServerFigures:
    software: str
    hello: Result
    me: Result
    hello_memory: Memory
    api_memory: Memory


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
    return await load(path, server.port, path, options.requests, options.concurrency, meter, headers or {})


async def sign_in(base: str, register: bool) -> str:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        if register:
            created = await client.post(
                "/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD, "display_name": "Bench Member"}
            )
            created.raise_for_status()
        tokens = await client.post("/api/v1/auth/sign-in", json={"email": EMAIL, "password": PASSWORD})
        tokens.raise_for_status()
        return tokens.json()["access_token"]


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


def run(options: Options) -> None:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        loop_factory = None

    from app.accounts.tokens import generate_private_key_pem
    from app.db import migrations
    from app.db.url import asyncpg_dsn, to_async_url, with_database

    print(f"API benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
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
                }
                registered = False
                for software in options.servers:
                    print(f"{software}: hello-world ...", flush=True)
                    with serve(software, "hello", options.workers, env, work_dir) as server:
                        hello_result = loop.run(measure(options, server, "/hello", None))
                        hello_memory = peak_memory(server.process.pid)
                    print(f"{software}: GET /api/v1/me ...", flush=True)
                    with serve(software, "api", options.workers, env, work_dir) as server:
                        token = loop.run(sign_in(server.base, register=not registered))
                        registered = True
                        headers = {"Authorization": f"Bearer {token}"}
                        me_result = loop.run(measure(options, server, "/api/v1/me", postgres_pid, headers))
                        api_memory = peak_memory(server.process.pid)
                    figures.append(ServerFigures(software, hello_result, me_result, hello_memory, api_memory))
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


def report(figures: list[ServerFigures], raw: Result) -> None:
    header = (
        f"{'server':<8} {'scenario':<26} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'÷hello':>6} {'÷asyncpg':>8}"
        f" | {'client':>6} {'server':>6} {'pg':>5} {'other':>5} | {'µs/req':>6} | {'errors':>6}"
    )
    print(f"\n{'':<83}| CPU (cores)                 | server CPU")
    print(header)
    print("-" * len(header))
    for server in figures:
        for label, result in (
            ("hello-world GET /hello", server.hello),
            ("raw asyncpg, 1 account row", raw),
            ("GET /api/v1/me (bearer)", server.me),
        ):
            cpu = result.cpu
            per_request = "-" if cpu.server is None else f"{cpu.server / result.rps * 1e6:.0f}"
            print(
                f"{server.software:<8} {label:<26} {result.rps:>7.0f} {result.percentile(0.5):>7.2f}"
                f" {result.percentile(0.99):>7.2f} {result.rps / server.hello.rps:>6.2f} {result.rps / raw.rps:>8.2f}"
                f" | {cpu.client:>6.2f} {_cores(cpu.server):>6} {_cores(cpu.postgres):>5} {cpu.other:>5.2f}"
                f" | {per_request:>6} | {result.errors:>6}"
            )
        print()
    print("Peak resident memory (VmHWM of each process of the server's tree, summed):")
    for server in figures:
        print(f"  {server.software:<8} hello-world: {server.hello_memory.describe()}")
        print(f"  {server.software:<8} API:         {server.api_memory.describe()}")
    print(
        "\nLatency is per request, send to last byte, under a closed loop (so p50 ~ concurrency / req/s).\n"
        "The raw asyncpg row is measured once and repeated in each group, as the database ceiling.\n"
        "CPU is in cores over the measured run: client = this load generator, server = the server's processes,\n"
        "pg = PostgreSQL (when local), other = every other process on the machine (noise, if not ~0).\n"
        "µs/req = the server's CPU time per request: the figure least disturbed by other processes."
    )
    results = [result for server in figures for result in (server.hello, server.me)] + [raw]
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
    )


def main(argv: list[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
