"""Shared helpers of the platform-wide tests: the OpenAPI walk, problem checks, row counts, a live server.

The operation lists are taken from the application's own OpenAPI document, so an endpoint added
anywhere in the project is picked up by these tests without editing them.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import asyncpg
import httpx
import uvicorn
from litestar import Litestar
from sqlalchemy.engine import URL

from app.accounts.tokens import generate_private_key_pem
from app.db.url import asyncpg_dsn
from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS

PROBLEM_BASE = "urn:coop:problem:"
WRITE_METHODS = ("post", "put", "patch", "delete")
HTTP_METHODS = ("get", "head", "options", *WRITE_METHODS)
# Tables whose rows change on every request by design: the rate limiter's counters.
BOOKKEEPING_TABLES = frozenset({"kv_store", "alembic_version"})


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the OpenAPI template, e.g. /api/v1/accounts/{account_id}
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == "path"]

    @property
    def body_schema_ref(self) -> dict[str, Any] | None:
        body = self.spec.get("requestBody")
        if not body or "application/json" not in body["content"]:
            return None  # no body, or a file upload (multipart): the feature's own tests attack those
        return body["content"]["application/json"]["schema"]


def openapi_document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def operations(app: Litestar) -> list[Operation]:
    document = openapi_document(app)
    return [
        Operation(method.upper(), path, spec)
        for path, item in sorted(document["paths"].items())
        for method, spec in item.items()
        if method in HTTP_METHODS
    ]


@cache
def collection_app() -> Litestar:
    """The application built only to read its OpenAPI document while pytest collects the tests.

    Nothing connects to a database: that happens in the lifespan, which never runs here.
    """
    settings = Settings(
        database_url="postgresql://collect@127.0.0.1:9/collect",
        COOP_JWT_PRIVATE_KEYS=generate_private_key_pem(),
        COOP_LOG_LEVEL="WARNING",
    )
    return create_app(settings, passwords=FAST_PASSWORDS)


def collected_operations() -> list[Operation]:
    return operations(collection_app())


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


def assert_problem(response: httpx.Response, *, context: str = "") -> dict[str, Any]:
    """A 4xx answer is an RFC 9457 problem document that leaks nothing of the server's insides."""
    where = f"{context}: {response.request.method} {response.request.url.path} -> {response.status_code}"
    assert 400 <= response.status_code < 500, f"{where}: expected a 4xx, got {response.text[:500]!r}"
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/problem+json"), f"{where}: content-type {content_type!r}"
    text = response.text
    assert "Traceback" not in text, f"{where}: stack trace in body"
    assert 'File "' not in text, f"{where}: stack trace in body"
    body = response.json()
    assert isinstance(body, dict), f"{where}: problem body is not an object"
    assert isinstance(body.get("type"), str), f"{where}: {body}"
    assert body["type"].startswith(PROBLEM_BASE), f"{where}: problem type {body.get('type')!r}"
    assert isinstance(body.get("title"), str), f"{where}: {body}"
    assert body["title"], f"{where}: empty title"
    assert body.get("status") == response.status_code, f"{where}: status {body.get('status')!r} in body"
    return body


async def table_counts(connection: asyncpg.Connection) -> dict[str, int]:
    """Row count of every application table (bookkeeping tables aside)."""
    names = await connection.fetch(
        "select table_name from information_schema.tables "
        "where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name"
    )
    counts: dict[str, int] = {}
    for record in names:
        name = record["table_name"]
        if name in BOOKKEEPING_TABLES:
            continue
        counts[name] = await connection.fetchval(f'select count(*) from "{name}"')
    return counts


async def connect(database_url: URL) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(database_url))


# -- a real HTTP server, for the tests that must talk to the API over a socket --------------------------------


@dataclass
class LiveServer:
    base_url: str
    app: Litestar


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread (pytest) keeps its handlers
        pass


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """`create_app(settings)` under uvicorn on a loopback port, in a thread with its own event loop.

    The socket is bound here, before the server starts, so no other process can take the port between
    choosing it and listening on it. Leaving the block stops the server (lifespan shutdown included).
    """
    app = create_app(settings, passwords=FAST_PASSWORDS)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app=app, lifespan="on", log_level="warning", access_log=False)
    server = _ThreadedServer(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name=f"live-server-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the live server stopped while starting (see its log above)")
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start within 30 s")
            time.sleep(0.02)
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
