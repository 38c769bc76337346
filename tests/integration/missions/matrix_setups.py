"""What the authorization matrix's mission rows need before each actor calls (see members/matrix_setups.py)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.members.factories import profile_body, publish_profile
from tests.integration.missions.helpers import apply, create_mission, open_mission, staffed_and_delivered


async def members_only_mission_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """The owner (a member) brought an open, members-only mission."""
    mission = await open_mission(client, actors.owner, visibility="members")
    return {"mission": mission["id"], "seat": mission["seats"][0]["id"]}


async def draft_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    return {"mission": (await create_mission(client, actors.owner))["id"]}


async def public_mission_of_client(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    mission = await open_mission(client, actors.client)
    return {"mission": mission["id"], "seat": mission["seats"][0]["id"]}


async def application_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """The client's public mission, and the owner's application to it."""
    mission = await open_mission(client, actors.client)
    application = await apply(client, actors.owner, mission)
    return {"mission": mission["id"], "application": application["id"]}


async def question_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    mission = await open_mission(client, actors.client)
    asked = await client.post(
        f"/api/v1/missions/{mission['id']}/questions", json={"body": "Une question ?"}, headers=actors.owner.headers
    )
    assert asked.status_code == 201, asked.text
    return {"mission": mission["id"], "question": asked.json()["id"]}


async def delivered_mission(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """The client's mission, the owner engaged on it, delivered."""
    await publish_profile(client, actors.owner, profile_body())
    mission = await staffed_and_delivered(client, actors.client, actors.owner)
    return {"mission": mission["id"]}
