"""Flows shared by the payments tests: an engagement, a quote on it, an issued invoice."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor, Actors
from tests.integration.missions.helpers import apply, open_mission

BUYER = {
    "name": "Acme SAS",
    "address": "1 rue de la Paix\n75002 Paris",
    "registration": "732 829 320 00074",
    "vat_number": "FR44732829320",
}


def quote_body(**overrides: Any) -> dict[str, Any]:
    """5 days at 500.00 EUR: two milestones of 1,500.00 and 1,000.00 before tax, VAT 20 %."""
    body: dict[str, Any] = {
        "pricing": "day_rate",
        "day_rate_minor": 50000,
        "days": 5,
        "vat_rate_bp": 2000,
        "milestones": [
            {"title": "Maquettes", "amount_ht_minor": 150000, "due_on": "2030-03-15"},
            {"title": "Mise en ligne", "amount_ht_minor": 100000, "due_on": "2030-04-30"},
        ],
        "buyer": BUYER,
    }
    body.update(overrides)
    return body


async def engagement(client: AsyncTestClient, customer: Actor, member: Actor) -> dict[str, Any]:
    """The customer's open mission with `member` accepted on its only seat; returns the mission."""
    mission = await open_mission(client, customer)
    application = await apply(client, member, mission)
    accepted = await client.post(
        f"/api/v1/missions/{mission['id']}/applications/{application['id']}/accept", headers=customer.headers
    )
    assert accepted.status_code == 200, accepted.text
    found = await client.get(f"/api/v1/missions/{mission['id']}", headers=customer.headers)
    return found.json()


async def proposed_quote(client: AsyncTestClient, actors: Actors, **overrides: Any) -> dict[str, Any]:
    mission = await engagement(client, actors.client, actors.owner)
    engagement_id = mission["engagements"][0]["id"]
    response = await client.post(
        f"/api/v1/payments/engagements/{engagement_id}/quotes",
        json=quote_body(**overrides),
        headers=actors.owner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def accepted_quote(client: AsyncTestClient, actors: Actors, **overrides: Any) -> dict[str, Any]:
    quote = await proposed_quote(client, actors, **overrides)
    response = await client.post(f"/api/v1/payments/quotes/{quote['id']}/accept", headers=actors.client.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def issued_invoice(client: AsyncTestClient, actors: Actors, milestone: int = 0) -> dict[str, Any]:
    quote = await accepted_quote(client, actors)
    milestone_id = quote["milestones"][milestone]["id"]
    response = await client.post(f"/api/v1/payments/milestones/{milestone_id}/invoice", headers=actors.owner.headers)
    assert response.status_code == 201, response.text
    return response.json()
