"""Property-based fuzzing of the live API with Schemathesis, from the OpenAPI document it serves.

A real uvicorn server runs the application on a loopback port (its own database, cloned from the
migrated template); Schemathesis reads `/schema/openapi.json` from it and sends every operation
generated requests three ways: anonymously, as an admitted member and as an administrator. Nothing
may answer 5xx, and every answer must match what the document promises for its status code.

The budget is small and derandomized (the same cases on every run), so this is a regression net,
not a search: run Schemathesis' CLI with a larger budget to hunt.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn, with_database
from app.settings import Settings
from tests.conftest import TEST_PASSWORD, Mailbox
from tests.integration.conftest import admit, create_admin_account, register, sign_in
from tests.integration.platform.conftest import LiveServer, collected_operations, collection_app, live_server

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# `stale` sends the token of a session that has ended: every /api operation must document that 401.
CALLERS = ("anonymous", "member", "admin", "stale")
EXAMPLES = {"anonymous": MAX_EXAMPLES, "member": MAX_EXAMPLES, "admin": MAX_EXAMPLES, "stale": 5}
OPERATIONS = collected_operations()

# Known bugs outside this test's reach, expected to fail until fixed (strict: a fix makes them fail loudly,
# so the entry is removed with the fix).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _cases() -> list[Any]:
    return [
        pytest.param(
            op.id,
            caller,
            id=f"{op.id}-{caller}",
            marks=[pytest.mark.xfail(reason=KNOWN_BUGS[(op.id, caller)], strict=True)]
            if (op.id, caller) in KNOWN_BUGS
            else [],
        )
        for op in OPERATIONS
        for caller in CALLERS
    ]


@pytest.fixture(scope="module")
async def live_database_url(server_url: URL, template_url: URL) -> AsyncIterator[URL]:
    name = f"coop_live_{uuid.uuid4().hex[:12]}"
    await _server_statement(server_url, f'create database "{name}" template "{template_url.database}"')
    yield with_database(server_url, name)
    await _server_statement(server_url, f'drop database if exists "{name}" with (force)')


async def _server_statement(server_url: URL, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def live_settings(
    live_database_url: URL,
    smtp_server: tuple[Mailbox, int],
    signing_key_pem: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    _, smtp_port = smtp_server
    return Settings(
        database_url=live_database_url.render_as_string(hide_password=False),
        COOP_DATA_DIR=tmp_path_factory.mktemp("live"),
        COOP_JWT_PRIVATE_KEYS=signing_key_pem,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        COOP_AUTH_RATE_LIMIT=10_000,
        COOP_PUBLIC_BASE_URL="http://coop.test",
        COOP_LOG_LEVEL="WARNING",
    )


@pytest.fixture(scope="module")
def live(live_settings: Settings) -> Iterator[LiveServer]:
    # Depends on the settings (and so the database) alone: the server stops before the database is dropped.
    with live_server(live_settings) as server:
        yield server


@dataclass(frozen=True)
class LiveAccounts:
    emails: dict[str, str]  # caller -> email
    path_parameters: dict[str, str]  # real ids, so that generated requests also reach existing objects


@pytest.fixture(scope="module")
async def accounts(live: LiveServer, live_settings: Settings, live_database_url: URL) -> LiveAccounts:
    """An admitted member, an administrator and a client organisation, on the live server."""
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        admin_email = await create_admin_account(live_settings, live_database_url)
        admin = await sign_in(client, admin_email, name="admin")
        member = await register(client, name="Fuzzed Member")
        await admit(client, admin, member)
        customer = await register(client, role="client", name="Fuzzed Client")
    return LiveAccounts(
        emails={"admin": admin_email, "member": member.email},
        path_parameters={"account_id": member.account_id, "organisation_id": customer.organisation_id},
    )


@pytest.fixture(scope="module")
def schema(live: LiveServer) -> Any:
    config = schemathesis.Config.from_dict(
        {"generation": {"with-security-parameters": False, "max-examples": MAX_EXAMPLES}}
    )
    return schemathesis.openapi.from_url(f"{live.base_url}/schema/openapi.json", config=config)


def fresh_headers(live: LiveServer, accounts: LiveAccounts, caller: str) -> dict[str, str]:
    """A new session per use, so an operation that ends its session cannot starve the next one."""
    if caller == "anonymous":
        return {}
    email = accounts.emails["member" if caller == "stale" else caller]
    response = httpx.post(f"{live.base_url}/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    if caller == "stale":
        ended = httpx.post(f"{live.base_url}/api/v1/auth/sign-out", headers=headers)
        assert ended.status_code == 204, ended.text
    return headers


def strategy(operation: Any, accounts: LiveAccounts) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests with generated ids, valid requests with real ids, and invalid requests."""
    names = {p["name"] for p in operation.definition.raw.get("parameters", []) if p.get("in") == "path"}
    real = {name: value for name, value in accounts.path_parameters.items() if name in names}
    strategies = [operation.as_strategy()]
    if real:
        strategies.append(operation.as_strategy(path_parameters=real))
    if operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"):
        strategies.append(operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    return st.one_of(strategies)


def test_the_live_document_is_the_one_tests_were_collected_from(schema: Any) -> None:
    live = {f"{method.upper()} {path}" for path, item in schema.raw_schema["paths"].items() for method in item}
    assert live == {op.id for op in OPERATIONS}


def _public_operations() -> set[str]:
    """Operations the bearer middleware skips (`opt={"exclude_from_auth": True}`): no 401 from it."""
    public = set()
    for route in collection_app().routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("exclude_from_auth"):
                public.update(f"{method} {path}" for method in handler.http_methods)
    return public


PUBLIC = _public_operations()


def test_every_error_the_document_promises_is_a_problem_document(schema: Any) -> None:
    """Statically: each documented 4xx/5xx is problem+json with the Problem schema (not Litestar's default
    400 body, which it adds to operations with parameters unless `problems(400, ...)` is listed), and
    every /api operation documents the 401 the bearer middleware answers to a bad or ended token."""
    wrong = []
    for path, item in schema.raw_schema["paths"].items():
        for method, spec in item.items():
            label = f"{method.upper()} {path}"
            for status, response in spec.get("responses", {}).items():
                if not status.startswith(("4", "5")):
                    continue
                content = response.get("content", {})
                problem = content.get("application/problem+json", {}).get("schema", {}).get("$ref", "")
                if set(content) != {"application/problem+json"} or not problem.endswith("/Problem"):
                    wrong.append(f"{label} {status}: {sorted(content)} (add {status} to its problems(...))")
            if path.startswith("/api/") and "401" not in spec.get("responses", {}) and label not in PUBLIC:
                wrong.append(f"{label}: 401 is not documented")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("operation_id", "caller"), _cases())
def test_operation_never_fails_and_answers_as_documented(
    operation_id: str, caller: str, schema: Any, live: LiveServer, accounts: LiveAccounts
) -> None:
    method, path = operation_id.split(" ", 1)
    operation = schema[path][method]
    headers = fresh_headers(live, accounts, caller)
    ends_session = operation_id == "POST /api/v1/auth/sign-out"

    @hypothesis.settings(
        max_examples=EXAMPLES[caller],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.given(case=strategy(operation, accounts))
    def fuzz(case: schemathesis.Case) -> None:
        sent = fresh_headers(live, accounts, caller) if ends_session else headers
        case.call_and_validate(base_url=live.base_url, headers=sent, checks=CHECKS)

    fuzz()
