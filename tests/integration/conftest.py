"""The application under test, an HTTP client, and the actors of every authorization matrix."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.accounts.service import AccountService
from app.accounts.tokens import SigningKeys
from app.core.mail import LogMailer
from app.db.engine import open_database
from app.db.transaction import UnitOfWork
from app.main import create_app
from app.models import MemberStatus
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD, Mailbox

_counter = itertools.count()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, passwords=FAST_PASSWORDS)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app, base_url="http://coop.test") as test_client:
        yield test_client


@dataclass
class Actor:
    """Someone calling the API: their account id and bearer headers (none when anonymous)."""

    name: str
    account_id: str | None
    email: str | None
    access_token: str | None
    refresh_token: str | None = None
    organisation_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}


def unique_email(prefix: str) -> str:
    # Unique across every copy of this module (pytest may load it both as a conftest and by import).
    return f"{prefix}.{next(_counter)}.{uuid.uuid4().hex[:8]}@example.org"


async def register(client: AsyncTestClient, *, role: str = "member", name: str = "Alex Test", **extra: Any) -> Actor:
    email = unique_email(role)
    body: dict[str, Any] = {"email": email, "password": TEST_PASSWORD, "display_name": name, "role": role, **extra}
    if role == "client" and "organisation" not in extra:
        body["organisation"] = {
            "legal_name": "Acme SAS",
            "registration_number": "RCS Paris 123 456 782",
            "billing_address": "1 rue de la Paix\n75002 Paris",
        }
    created = await client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201, created.text
    return await sign_in(client, email, name=role, organisation_id=created.json()["client_organisation_id"])


async def sign_in(
    client: AsyncTestClient, email: str, *, name: str = "someone", organisation_id: str | None = None
) -> Actor:
    response = await client.post("/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    return Actor(
        name=name,
        account_id=me["id"],
        email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        organisation_id=organisation_id or me.get("client_organisation_id"),
    )


async def create_admin_account(settings: Settings, database_url: URL) -> str:
    """Administrators are made by the operator (the CLI's code path), never through the API."""
    database = open_database(settings, database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            service = AccountService(
                UnitOfWork(session), settings, FAST_PASSWORDS, SigningKeys.from_settings(settings), LogMailer()
            )
            email = unique_email("admin")
            await service.create_admin(email=email, password=TEST_PASSWORD, display_name="Admin")
    finally:
        await database.dispose()
    return email


async def admit(
    client: AsyncTestClient, admin: Actor, member: Actor, status: MemberStatus = MemberStatus.MEMBER
) -> None:
    response = await client.patch(
        f"/api/v1/accounts/{member.account_id}/member-status", json={"status": status.value}, headers=admin.headers
    )
    assert response.status_code == 200, response.text


@dataclass
class Actors:
    owner: Actor
    other_member: Actor
    client: Actor
    admin: Actor
    anonymous: Actor

    def all(self) -> list[Actor]:
        return [self.owner, self.other_member, self.client, self.admin, self.anonymous]


async def verify_email(client: AsyncTestClient, mailbox: Mailbox, actor: Actor) -> None:
    """Follow the verification link mailed at registration (publishing a mission needs it)."""
    assert actor.email is not None
    response = await client.post("/api/v1/auth/verify-email", json={"token": mailbox.last_token(actor.email)})
    assert response.status_code == 200, response.text


async def verify_organisation(client: AsyncTestClient, admin: Actor, actor: Actor) -> None:
    response = await client.post(f"/api/v1/organisations/{actor.organisation_id}/verify", headers=admin.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
async def actors(client: AsyncTestClient, settings: Settings, database_url: URL, mailbox: Mailbox) -> Actors:
    """Admitted members and a client whose addresses are verified, the client's organisation too."""
    admin = await sign_in(client, await create_admin_account(settings, database_url), name="admin")
    owner = await register(client, name="Owner Member")
    other = await register(client, name="Other Member")
    for member in (owner, other):
        await admit(client, admin, member)
    owner.name, other.name = "owner", "other_member"
    customer = await register(client, role="client", name="Client Person")
    for actor in (owner, other, customer):
        await verify_email(client, mailbox, actor)
    await verify_organisation(client, admin, customer)
    return Actors(
        owner=owner,
        other_member=other,
        client=customer,
        admin=admin,
        anonymous=Actor(name="anonymous", account_id=None, email=None, access_token=None),
    )
