"""Mission bodies and flows shared by the missions tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor


def mission_body(seats: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Refonte du site de la coopérative",
        "description": "Nous cherchons une équipe pour refaire notre site en Django, accessible et sobre.",
        "budget_kind": "day_rate",
        "budget_amount_minor": 55000,
        "budget_days": 20,
        "currency": "EUR",
        "starts_on": "2030-03-01",
        "ends_on": "2030-04-30",
        "city": "Lyon",
        "postal_code": "69001",
        "region": "Auvergne-Rhône-Alpes",
        "country": "FR",
        "latitude": 45.767,
        "longitude": 4.834,
        "work_mode": "hybrid",
        "visibility": "public",
        "seats": seats if seats is not None else [{"title": "Back-end developer", "skills": []}],
    }
    body.update(overrides)
    return body


async def create_mission(client: AsyncTestClient, owner: Actor, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/missions", json=mission_body(**overrides), headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def move(client: AsyncTestClient, actor: Actor, mission_id: str, to: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/missions/{mission_id}/transitions", json={"to": to}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def open_mission(client: AsyncTestClient, owner: Actor, **overrides: Any) -> dict[str, Any]:
    mission = await create_mission(client, owner, **overrides)
    return await move(client, owner, mission["id"], "open")


async def apply(client: AsyncTestClient, member: Actor, mission: dict[str, Any], seat: int = 0) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/missions/{mission['id']}/applications",
        json={
            "seat_id": mission["seats"][seat]["id"],
            "message": "Disponible et motivée.",
            "proposed_day_rate_minor": 50000,
        },
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def staffed_and_delivered(
    client: AsyncTestClient, owner: Actor, member: Actor, **overrides: Any
) -> dict[str, Any]:
    """A one-seat mission, staffed with `member`, delivered."""
    mission = await open_mission(client, owner, **overrides)
    application = await apply(client, member, mission)
    accepted = await client.post(
        f"/api/v1/missions/{mission['id']}/applications/{application['id']}/accept", headers=owner.headers
    )
    assert accepted.status_code == 200, accepted.text
    await move(client, owner, mission["id"], "in_progress")
    return await move(client, owner, mission["id"], "delivered")
