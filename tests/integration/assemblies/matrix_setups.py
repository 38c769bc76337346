"""Objects the authorization matrix rows of the assemblies feature need (tests/integration/platform).

In every setup the owner and the other member are admitted members, hence in the electorate of what
is convened or opened; the client is in no college, so to them assemblies do not exist.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from litestar.testing import AsyncTestClient

from app.assemblies.secrecy import b64, decrypt_share, public_bytes, unb64
from tests.integration.conftest import Actors


def _later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def planned(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    admin = actors.admin.headers
    await _ok(
        await client.put(
            "/api/v1/statutes",
            json={"preset": "scop_sarl", "chair_may_close_early": True, "chair_may_open_early": True},
            headers=admin,
        )
    )
    assembly = await _ok(
        await client.post(
            "/api/v1/assemblies",
            json={"kind": "ordinary", "title": "AG", "scheduled_at": _later(20)},  # past the 15-day notice
            headers=admin,
        ),
        201,
    )
    proposal = await _ok(
        await client.post(
            f"/api/v1/assemblies/{assembly['id']}/proposals",
            json={"title": "Accounts", "text": "Approve."},
            headers=admin,
        ),
        201,
    )
    return {"assembly": assembly["id"], "proposal": proposal["id"]}


async def convened(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await planned(client, actors)
    await _ok(await client.post(f"/api/v1/assemblies/{context['assembly']}/convene", headers=actors.admin.headers))
    return context


async def convened_with_proxy(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await convened(client, actors)
    await _ok(
        await client.put(
            f"/api/v1/assemblies/{context['assembly']}/proxy", json={"holder_id": None}, headers=actors.owner.headers
        )
    )
    return context


async def opened(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await convened(client, actors)
    await _ok(await client.post(f"/api/v1/assemblies/{context['assembly']}/open", headers=actors.admin.headers))
    return context


async def closed(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await opened(client, actors)
    await _ok(
        await client.post(
            f"/api/v1/proposals/{context['proposal']}/ballots", json={"choice": "yes"}, headers=actors.owner.headers
        ),
        201,
    )
    await _ok(await client.post(f"/api/v1/assemblies/{context['assembly']}/close", headers=actors.admin.headers))
    return context


async def standalone(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    proposal = await _ok(
        await client.post(
            "/api/v1/proposals",
            json={"title": "Between assemblies", "text": "Decide.", "opens_at": _later(6), "closes_at": _later(7)},
            headers=actors.admin.headers,
        ),
        201,
    )
    return {"proposal": proposal["id"]}


async def standalone_with_proxy(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await standalone(client, actors)
    await _ok(
        await client.put(
            f"/api/v1/proposals/{context['proposal']}/proxy", json={"holder_id": None}, headers=actors.owner.headers
        )
    )
    return context


async def initiative(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    proposal = await _ok(
        await client.post(
            "/api/v1/proposals",
            json={"title": "Members' initiative", "text": "Let us.", "closes_at": _later(7)},
            headers=actors.owner.headers,
        ),
        201,
    )
    return {"proposal": proposal["id"]}


def trustee_key() -> tuple[X25519PrivateKey, str]:
    key = X25519PrivateKey.generate()
    return key, b64(public_bytes(key.public_key()))


async def planned_with_bureau(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """The owner is the bureau's one scrutineer (threshold 1)."""
    context = await planned(client, actors)
    private, public = trustee_key()
    await _ok(
        await client.put("/api/v1/me/trustee-key", json={"public_key": public}, headers=actors.owner.headers), 204
    )
    context["trustee_private_key"] = private
    return context


async def opened_with_bureau(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await planned_with_bureau(client, actors)
    admin = actors.admin.headers
    await _ok(
        await client.put(
            f"/api/v1/assemblies/{context['assembly']}/bureau",
            json={"trustees": [actors.owner.account_id], "threshold": 1},
            headers=admin,
        )
    )
    await _ok(await client.post(f"/api/v1/assemblies/{context['assembly']}/convene", headers=admin))
    await _ok(await client.post(f"/api/v1/assemblies/{context['assembly']}/open", headers=admin))
    document = await _ok(
        await client.get(f"/api/v1/proposals/{context['proposal']}/key-share", headers=actors.owner.headers)
    )
    share = decrypt_share(
        unb64(document["encrypted_share"]),
        context["trustee_private_key"],
        uuid.UUID(context["proposal"]),
        uuid.UUID(actors.owner.account_id),
    )
    context["share"] = share.encode()
    return context
