"""Fixtures of the assemblies tests: a cooperative with members, a client in a college, helpers to vote."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.settings import Settings
from tests.conftest import Mailbox
from tests.integration.conftest import Actor, admit, create_admin_account, register, sign_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No notice period (the tests cannot wait 15 days) and a quick background loop."""
    return settings.model_copy(update={"convocation_notice_days": 0, "assembly_tick_seconds": 0.2})


@dataclass
class Coop:
    admin: Actor
    members: list[Actor]
    client: Actor  # admitted to the "beneficiaries" college

    def member(self, index: int) -> Actor:
        return self.members[index]

    def mail(self, mailbox: Mailbox) -> list[Message]:
        """The mails sent to this cooperative's people: the mailbox is shared by every test of the
        worker, the browser tests' server included, so counts are taken on these only."""
        ours = {actor.email for actor in (self.admin, self.client, *self.members)}
        return [message for message in mailbox.messages if message["To"] in ours]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def found_scic(client: AsyncTestClient, admin: Actor, **extra: Any) -> dict[str, Any]:
    body = {
        "preset": "scic_sas",
        "default_college": "workers",
        "chair_may_close_early": True,
        "chair_may_open_early": True,
        **extra,
    }
    return ok(await client.put("/api/v1/statutes", json=body, headers=admin.headers))


@pytest.fixture
async def coop(client: AsyncTestClient, settings: Settings, database_url: URL) -> Coop:
    admin = await sign_in(client, await create_admin_account(settings, database_url), name="admin")
    members = []
    for index in range(6):
        member = await register(client, name=f"Member {index}")
        await admit(client, admin, member)
        members.append(member)
    customer = await register(client, role="client", name="Client In College")
    await found_scic(client, admin)
    ok(
        await client.put(
            f"/api/v1/statutes/colleges/{customer.account_id}", json={"college": "beneficiaries"}, headers=admin.headers
        )
    )
    ok(
        await client.put(
            f"/api/v1/statutes/colleges/{members[5].account_id}", json={"college": "supporters"}, headers=admin.headers
        )
    )
    return Coop(admin=admin, members=members, client=customer)


async def convened_assembly(
    client: AsyncTestClient, coop: Coop, proposals: list[dict[str, Any]]
) -> tuple[str, list[str]]:
    assembly = ok(
        await client.post(
            "/api/v1/assemblies",
            json={
                "kind": "ordinary",
                "title": "AG 2026",
                "scheduled_at": soon(hours=1),
                "voting_closes_at": soon(hours=3),
            },
            headers=coop.admin.headers,
        ),
        201,
    )
    ids = []
    for body in proposals:
        created = ok(
            await client.post(f"/api/v1/assemblies/{assembly['id']}/proposals", json=body, headers=coop.admin.headers),
            201,
        )
        ids.append(created["id"])
    ok(await client.post(f"/api/v1/assemblies/{assembly['id']}/convene", headers=coop.admin.headers))
    return assembly["id"], ids


async def cast(client: AsyncTestClient, actor: Actor, proposal_id: str, choice: Any, **extra: Any) -> Any:
    return await client.post(
        f"/api/v1/proposals/{proposal_id}/ballots", json={"choice": choice, **extra}, headers=actor.headers
    )


async def eventually(predicate: Any, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
