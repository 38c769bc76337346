"""Every write endpoint refuses hostile bodies with a problem document, and stores nothing.

The endpoints are read from the application's OpenAPI document, and the bodies are derived from each
operation's request schema, so endpoints added later are attacked without editing this file. A
schema-valid "baseline" body is built per operation; each attack breaks it in one way (one field at
a time where it makes sense), so a refusal can only come from the broken part.

Each request is sent by a signed-in administrator and by an admitted member: a guard may refuse one
of them (401/403, still a problem document), but at least one must reach the body's validation.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.settings import Settings
from tests.conftest import TEST_PASSWORD
from tests.integration.conftest import Actor, Actors, unique_email
from tests.integration.platform.conftest import (
    WRITE_METHODS,
    Operation,
    assert_problem,
    collected_operations,
    connect,
    openapi_document,
    operations,
    resolve,
    table_counts,
)

JSON = "application/json"
# Problems a guard answers with, before the body is read.
GUARD_PROBLEMS = {"urn:coop:problem:not-authenticated", "urn:coop:problem:forbidden"}
LONG = 10_000
DEEP = 10_000
SQL_ISH = ("'; drop table account; --", "1' or '1'='1", "\"; delete from account where ''='")

WRITE_OPERATIONS = [op for op in collected_operations() if op.method.lower() in WRITE_METHODS]
BODY_OPERATIONS = [op for op in WRITE_OPERATIONS if op.body_schema_ref is not None]
BODYLESS_OPERATIONS = [op for op in WRITE_OPERATIONS if op.body_schema_ref is None]

# Path parameters are filled with the calling actor's own ids, so guards and object checks pass where
# they can. An unknown uuid parameter gets a fresh uuid: the body is validated before any lookup.
PATH_PARAMETERS: dict[str, Callable[[Actor], str | None]] = {
    "account_id": lambda actor: actor.account_id,
    "organisation_id": lambda actor: actor.organisation_id,
}


# -- the request schema, walked -------------------------------------------------------------------------------


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return set(declared)
    if declared:
        return {declared}
    if "enum" in schema:
        return {type(value).__name__.replace("str", "string") for value in schema["enum"]}
    return set()


def _options(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = resolve(document, schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return [option for choice in schema[key] for option in _options(document, choice)]
    return [schema]


def _accepted_types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    return set().union(*(_types(option) for option in _options(document, schema)))


def _main_option(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The first non-null alternative of a (possibly nullable) schema."""
    options = _options(document, schema)
    return next((option for option in options if _types(option) != {"null"}), options[0])


def _fits(value: str, schema: dict[str, Any]) -> bool:
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
        return False
    return "pattern" not in schema or re.search(schema["pattern"], value) is not None


def example(document: dict[str, Any], name: str, schema: dict[str, Any]) -> Any:
    """A value that satisfies `schema`, as plausible as a generic guess can be."""
    schema = _main_option(document, schema)
    if "enum" in schema:
        return schema.get("default", schema["enum"][0])
    types = _types(schema)
    if "object" in types or "properties" in schema:
        return {key: example(document, key, schema["properties"][key]) for key in schema.get("required", [])}
    if "array" in types:
        return []
    if "boolean" in types:
        return True
    if "integer" in types:
        return int(schema.get("minimum", 1))
    if "number" in types:
        return float(schema.get("minimum", 1))
    formats = {
        "uuid": lambda: str(uuid.uuid4()),
        "date-time": lambda: "2030-01-01T12:00:00Z",
        "date": lambda: "2030-01-01",
        "email": lambda: unique_email("hostile"),
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]()
    if "email" in name:
        return unique_email("hostile")
    # The last: a base64url 32-byte key (a scrutineer's X25519 public key).
    candidates = ["Valid text", "ValidToken_0123456789abcdefABCDEF", "x", "A1", "A" * 43]
    if isinstance(schema.get("default"), str):  # a documented default fits its own pattern (e.g. "EUR")
        candidates.insert(0, schema["default"])
    if "password" in name:
        candidates.insert(0, TEST_PASSWORD)
    for candidate in candidates:
        if _fits(candidate, schema):
            return candidate
    raise AssertionError(f"no example for field {name!r} of schema {schema}: teach `example` about it")


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]
    schema: dict[str, Any]  # resolved main option

    @property
    def name(self) -> str:
        return ".".join(self.path)


def fields(document: dict[str, Any], schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[Field]:
    """Every field of a request body, nested objects' fields included."""
    schema = _main_option(document, schema)
    for key, sub in schema.get("properties", {}).items():
        main = _main_option(document, sub)
        yield Field((*prefix, key), main)
        if "properties" in main:
            yield from fields(document, main, (*prefix, key))


def with_value(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any], field: Field, value: Any):
    """A copy of `base` whose `field` is `value` (optional parent objects are made up on the way)."""
    body = json.loads(json.dumps(base))
    node, node_schema = body, _main_option(document, schema)
    for key in field.path[:-1]:
        child_schema = _main_option(document, node_schema["properties"][key])
        if not isinstance(node.get(key), dict):
            node[key] = example(document, key, child_schema)
        node, node_schema = node[key], child_schema
    node[field.path[-1]] = value
    return body


# -- attacks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    label: str
    content: bytes
    content_type: str | None = JSON


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def _with_raw(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any], field: Field, raw: str) -> bytes:
    marker = f"__raw_{uuid.uuid4().hex}__"
    return _dump(with_value(document, schema, base, field, marker)).replace(f'"{marker}"'.encode(), raw.encode())


def _string_fields(document: dict[str, Any], schema: dict[str, Any]) -> list[Field]:
    return [f for f in fields(document, schema) if "string" in _types(f.schema) and "properties" not in f.schema]


WRONG_VALUES: dict[str, Any] = {
    "integer": 12345,
    "number": 1.5,
    "string": "not the right type",
    "boolean": True,
    "array": ["a", 1],
    "object": {"nested": "object"},
}


def malformed_json(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    raw = [
        b'{"',
        b"{'single': 'quotes'}",
        b"not json at all",
        b'{"a": 1,}',
        b'{"a": NaN}',
        _dump(base) + b" trailing",
        _dump(base)[:-1],
        b'{"a": "\xff\xfe invalid utf-8"}',
        b"\x00\x01\x02\x1b[31m",
    ]
    return [Variant(f"malformed #{index}", content) for index, content in enumerate(raw)]


def not_an_object(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    return [
        Variant("array of the body", _dump([base])),
        Variant("empty array", b"[]"),
        Variant("string", b'"a string"'),
        Variant("number", b"42"),
        Variant("null", b"null"),
        Variant("boolean", b"true"),
    ]


def wrong_types(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    variants = []
    for field in fields(document, schema):
        accepted = _accepted_types(document, field.schema) | _accepted_types(
            document, _field_declared_schema(document, schema, field)
        )
        if "number" in accepted:
            accepted.add("integer")
        for type_name, value in WRONG_VALUES.items():
            if type_name not in accepted:
                variants.append(
                    Variant(f"{field.name} as {type_name}", _dump(with_value(document, schema, base, field, value)))
                )
        if "null" not in accepted:
            variants.append(Variant(f"{field.name} as null", _dump(with_value(document, schema, base, field, None))))
    return variants


def _field_declared_schema(document: dict[str, Any], schema: dict[str, Any], field: Field) -> dict[str, Any]:
    node = _main_option(document, schema)
    declared: dict[str, Any] = node
    for key in field.path:
        declared = node["properties"][key]
        node = _main_option(document, declared)
    return declared


def unknown_fields(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    variants = [
        Variant("unexpected field", _dump({**base, "unexpected": "x"})),
        Variant("is_admin", _dump({**base, "is_admin": True})),
        Variant("id", _dump({**base, "id": str(uuid.uuid4())})),
        Variant("__proto__", _dump({**base, "__proto__": {"role": "admin"}})),
    ]
    for field in fields(document, schema):
        if "properties" in field.schema:
            nested = {**example(document, field.name, field.schema), "unexpected": "x"}
            variants.append(
                Variant(f"unknown in {field.name}", _dump(with_value(document, schema, base, field, nested)))
            )
    return variants


def empty_bodies(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    variants = [
        Variant("no bytes", b""),
        Variant("no bytes, no content type", b"", None),
        Variant("whitespace", b"  \n "),
    ]
    if _main_option(document, schema).get("required"):
        variants.append(Variant("empty object", b"{}"))
    return variants


def control_characters(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    variants = []
    for field in _string_fields(document, schema):
        valid = example(document, field.path[-1], field.schema)
        if "enum" in field.schema or not isinstance(valid, str):
            continue
        for char in ("\x00", "\x1b"):
            middle = len(valid) // 2
            value = valid[:middle] + char + valid[middle:]
            variants.append(
                Variant(f"{field.name} with {char!r}", _dump(with_value(document, schema, base, field, value)))
            )
    return variants


def long_strings(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    return [
        Variant(f"{field.name} of {LONG} characters", _dump(with_value(document, schema, base, field, "a" * LONG)))
        for field in _string_fields(document, schema)
    ]


def deep_nesting(document: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]) -> list[Variant]:
    deep_list = "[" * DEEP + "]" * DEEP
    deep_object = '{"a":' * DEEP + "1" + "}" * DEEP
    variants = [
        Variant("deep array body", deep_list.encode()),
        Variant("deep object body", deep_object.encode()),
        Variant("deep unknown field", _dump({**base, "unexpected": None}).replace(b"null", deep_object.encode())),
    ]
    for field in fields(document, schema):
        variants.append(Variant(f"{field.name} deep array", _with_raw(document, schema, base, field, deep_list)))
        variants.append(Variant(f"{field.name} deep object", _with_raw(document, schema, base, field, deep_object)))
    return variants


ATTACKS: dict[str, Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], list[Variant]]] = {
    "malformed-json": malformed_json,
    "not-an-object": not_an_object,
    "wrong-types": wrong_types,
    "unknown-fields": unknown_fields,
    "empty-body": empty_bodies,
    "control-characters": control_characters,
    "long-strings": long_strings,
    "deep-nesting": deep_nesting,
}


# -- the harness ---------------------------------------------------------------------------------------------


def url_for(operation: Operation, actor: Actor) -> str:
    path = operation.path
    for parameter in operation.path_parameters:
        name = parameter["name"]
        fill = PATH_PARAMETERS.get(name)
        value = fill(actor) if fill else None
        if value is None:
            assert parameter.get("schema", {}).get("format") == "uuid", (
                f"{operation.id}: add path parameter {name!r} to PATH_PARAMETERS"
            )
            value = str(uuid.uuid4())
        path = path.replace("{" + name + "}", str(value))
    return path


async def send(client: AsyncTestClient, operation: Operation, actor: Actor, variant: Variant) -> httpx.Response:
    headers = dict(actor.headers)
    if variant.content_type:
        headers["content-type"] = variant.content_type
    return await client.request(operation.method, url_for(operation, actor), content=variant.content, headers=headers)


def callers(actors: Actors) -> list[Actor]:
    return [actors.admin, actors.owner]


def huge_bodies(settings: Settings) -> list[Variant]:
    filler = "a" * (settings.max_body_bytes + 1)
    return [
        Variant("huge string", _dump({"display_name": filler})),
        Variant("huge garbage", filler.encode()),
        Variant("huge array", _dump(list(range(settings.max_body_bytes // 2)))),
    ]


@pytest.fixture
async def db(database_url: URL) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(database_url)
    yield connection
    await connection.close()


def test_operations_are_discovered(app: Litestar) -> None:
    """The collected list is the live application's, and covers the endpoints we know of."""
    live = [op.id for op in operations(app) if op.method.lower() in WRITE_METHODS]
    assert live == [op.id for op in WRITE_OPERATIONS]
    assert "POST /api/v1/auth/register" in live
    assert "PATCH /api/v1/accounts/{account_id}/member-status" in live


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=lambda op: op.id)
async def test_hostile_bodies_are_refused_and_nothing_is_stored(
    operation: Operation,
    app: Litestar,
    client: AsyncTestClient,
    actors: Actors,
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    """Every attack, as an administrator and as a member: a problem document, and no row written.

    Failures are collected across all attacks so one run reports every hole at once.
    """
    document = openapi_document(app)
    schema = operation.body_schema_ref
    base = example(document, "body", schema)
    before = await table_counts(db)

    # The baseline is valid: any refusal below comes from the attack alone.
    reached = False
    for actor in callers(actors):
        response = await send(client, operation, actor, Variant("baseline", _dump(base)))
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            problem = assert_problem(response, context="baseline")
            assert problem["type"] not in ("urn:coop:problem:validation-error", "urn:coop:problem:bad-request"), (
                f"{operation.id} refuses the baseline body {base}: {problem}"
            )
            if problem["type"] in GUARD_PROBLEMS:
                continue
        reached = True
    assert reached, f"{operation.id}: no caller gets past the guards"
    # The baseline itself may have written (a registration, say): count from here.
    before = await table_counts(db)

    failures: list[str] = []
    attacks = {name: attack(document, schema, base) for name, attack in ATTACKS.items()}
    attacks["huge-body"] = huge_bodies(settings)
    for attack, variants in attacks.items():
        for variant in variants:
            types = []
            try:
                for actor in callers(actors):
                    response = await send(client, operation, actor, variant)
                    context = f"{attack} / {variant.label} / as {actor.name}"
                    problem = assert_problem(response, context=context)
                    types.append(problem["type"])
                    assert "a" * 1000 not in response.text, f"{context}: the answer echoes the long input"
                    if attack == "huge-body" and problem["type"] not in GUARD_PROBLEMS:
                        assert problem["type"] == "urn:coop:problem:payload-too-large", f"{context}: {problem}"
                assert set(types) - GUARD_PROBLEMS, f"{attack} / {variant.label}: no caller reached validation"
                after = await table_counts(db)
                assert after == before, f"{attack} / {variant.label}: rows changed {before} -> {after}"
            except AssertionError as failure:
                failures.append(str(failure).splitlines()[0])
                before = await table_counts(db)
    assert not failures, f"{operation.id}: {len(failures)} hostile bodies got through:\n" + "\n".join(failures)


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=lambda op: op.id)
async def test_sql_ish_strings_are_inert(
    operation: Operation, app: Litestar, client: AsyncTestClient, actors: Actors, db: asyncpg.Connection
) -> None:
    """SQL in every string field is either refused with a problem or stored literally; tables stay whole.

    Free text may legitimately look like SQL (a display name can be anything printable), so a 2xx is
    allowed, and an endpoint that creates something adds rows; what must never happen is a server
    error, a table losing rows, or a mangled value.
    """
    document = openapi_document(app)
    schema = operation.body_schema_ref
    base = example(document, "body", schema)
    before = await table_counts(db)
    for sql in SQL_ISH:
        body = base
        for field in _string_fields(document, schema):
            if "enum" not in field.schema and field.path[0] in base:
                body = with_value(document, schema, body, field, sql)
        for actor in callers(actors):
            response = await send(client, operation, actor, Variant(sql, _dump(body)))
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert_problem(response, context=f"{sql} as {actor.name}")
            elif response.content:
                echoed = response.json()
                for key, value in body.items():
                    if isinstance(echoed, dict) and key in echoed and isinstance(value, str):
                        assert echoed[key] == value, f"{key} stored as {echoed[key]!r}, sent {value!r}"
        # An endpoint that creates something (a skill, a profile) adds rows; none may disappear.
        after = await table_counts(db)
        lost = {name: (count, after.get(name)) for name, count in before.items() if (after.get(name) or 0) < count}
        assert not lost, f"{operation.id} {sql}: rows lost {lost}"
        before = after


@pytest.mark.parametrize("operation", BODYLESS_OPERATIONS, ids=lambda op: op.id)
async def test_bodies_sent_to_bodyless_operations_do_no_harm(
    operation: Operation, app: Litestar, client: AsyncTestClient, actors: Actors, settings: Settings
) -> None:
    """An operation that takes no body ignores one (or refuses it with a problem); it never fails."""
    document = openapi_document(app)
    variants = [v for attack in ATTACKS.values() for v in attack(document, {"type": "object"}, {"unexpected": "x"})]
    variants += huge_bodies(settings)
    for variant in variants:
        for actor in callers(actors):
            response = await send(client, operation, actor, variant)
            assert response.status_code < 500, f"{variant.label}: {response.text}"
            if response.status_code >= 400:
                assert_problem(response, context=f"{variant.label} as {actor.name}")
