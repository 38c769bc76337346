"""What the authorization matrix's vault rows need before each actor calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import TEST_PASSWORD
from tests.integration.conftest import Actors
from tests.integration.vault.helpers import ok


async def owners_export(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    return {"export": ok(await client.post("/api/v1/me/vault/exports", headers=actors.owner.headers), 201)["id"]}


async def owners_recovery_key(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    ok(await client.post("/api/v1/me/vault/recovery-key", headers=actors.owner.headers), 201)
    return {}


async def trusted_issuer(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    issuer = ok(
        await client.post("/api/v1/vault/trusted-issuers", json=issuer_body("matrix"), headers=actors.admin.headers),
        201,
    )
    return {"issuer": issuer["id"]}


def issuer_body(name: str) -> dict[str, Any]:
    return {
        "did": f"did:web:{name}.coop.example",
        "name": f"Coop {name}",
        "keys": [{"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "kid": "key-1"}],
    }


async def partner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    created = ok(
        await client.post(
            "/api/v1/vault/partners",
            json={"name": "Matrix partner", "kind": "training body"},
            headers=actors.admin.headers,
        ),
        201,
    )
    return {"partner": created["id"]}


async def convention(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await partner(client, actors)
    created = ok(
        await client.post(
            "/api/v1/vault/conventions", json=convention_body(context["partner"]), headers=actors.admin.headers
        ),
        201,
    )
    return {**context, "convention": created["id"]}


async def owners_grant(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await convention(client, actors)
    created = ok(
        await client.post(
            "/api/v1/me/vault/grants", json=grant_body(context["convention"]), headers=actors.owner.headers
        ),
        201,
    )
    return {**context, "grant": created["id"]}


def convention_body(partner_id: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "partner_id": partner_id,
        "title": "Matrix convention",
        "categories": ["profile"],
        "purpose": "Testing who may do what.",
        "retention_days": 30,
        "engagements": {"no_resale": True, "deletion_at_end": True, "hosting": "France"},
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
    }


def grant_body(convention_id: str) -> dict[str, Any]:
    return {
        "convention_id": convention_id,
        "scopes": ["profile"],
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }


async def owners_grant_and_id(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    return {**await owners_grant(client, actors), "owner": actors.owner.account_id}


async def owners_erasure_confirmation(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    confirmed = ok(
        await client.post(
            "/api/v1/me/vault/erasure/confirmation", json={"password": TEST_PASSWORD}, headers=actors.owner.headers
        ),
        201,
    )
    return {"confirmation": confirmed["confirmation"]}
