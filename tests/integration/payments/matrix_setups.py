"""What the payments rows of the authorization matrix need before each actor calls.

The owner (an admitted member) is engaged on the client's mission; the objects below are theirs.
"""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.payments.helpers import accepted_quote, engagement, issued_invoice, proposed_quote


async def engagement_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    mission = await engagement(client, actors.client, actors.owner)
    return {"engagement": mission["engagements"][0]["id"]}


async def proposed(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    return {"quote": (await proposed_quote(client, actors))["id"]}


async def accepted(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    quote = await accepted_quote(client, actors)
    return {"quote": quote["id"], "milestone": quote["milestones"][0]["id"]}


async def delivered(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await accepted(client, actors)
    response = await client.post(
        f"/api/v1/payments/milestones/{context['milestone']}/deliver", headers=actors.owner.headers
    )
    assert response.status_code == 200, response.text
    return context


async def invoice(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    return {"invoice": (await issued_invoice(client, actors))["id"]}


async def credited_invoice(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """An invoice wholly covered by a credit note: nothing is left to pay (so no call reaches Stripe)."""
    context = await invoice(client, actors)
    response = await client.post(
        f"/api/v1/payments/invoices/{context['invoice']}/credit-notes",
        json={"reason": "Geste commercial"},
        headers=actors.admin.headers,
    )
    assert response.status_code == 201, response.text
    return context


async def owner_iban(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    response = await client.put(
        "/api/v1/payments/me/bank-account",
        json={"holder_name": "Owner Member", "iban": "FR7630006000011234567890189"},
        headers=actors.owner.headers,
    )
    assert response.status_code == 200, response.text
    return {}
