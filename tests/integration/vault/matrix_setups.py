"""What the authorization matrix's vault rows need before each actor calls."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

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
