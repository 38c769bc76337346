"""What the authorization matrix's marketplace rows need to exist before each actor calls.

Each setup returns a context dict the rows' `url` and `body` read (`actors.context[...]`).
"""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.members.factories import profile_body, publish_profile, skill_id


async def owner_profile(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """The owner has a published, members-only profile."""
    await publish_profile(client, actors.owner, profile_body(visibility="members"))
    return {}


async def seeded_skill(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    return {"skill": await skill_id(client, "python")}


async def proposed_skill(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    response = await client.post("/api/v1/skills", json={"name": "Matrix skill"}, headers=actors.other_member.headers)
    assert response.status_code == 201, response.text
    return {"proposal": response.json()["id"], "skill": await skill_id(client, "python")}
