"""Fair limits (issue 9, item 5): a hybrid assembly's members signing in from the venue's one Wi-Fi
address all get in, while twenty wrong passwords on one account are stopped whatever the addresses
they come from; refresh is limited per session and sign-out never.

In process, with the application's default limits. The client address is what a trusted proxy
says it is: the test's ASGI wrapper stands in for that proxy (X-Test-Peer sets the TCP peer).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine import URL

from app.accounts.addresses import email_skeleton
from app.core.rate_limit import STORE_NAME, AuthLimits
from app.db.engine import open_database
from app.main import create_app
from app.models import Account, MemberStatus, Role
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD

VENUE = "198.51.100.20"
ROOM = 200


def _with_peer(app: ASGIApp) -> ASGIApp:
    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = dict(scope["headers"]).get(b"x-test-peer")
            if peer:
                scope["client"] = (peer.decode(), 40000)  # type: ignore[typeddict-unknown-key]
        await app(scope, receive, send)

    return wrapper


class Clock:
    """The limits' clock, moved by the test: backoffs expire when the test says, not when the VM is slow."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def venue_client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    defaults = settings.model_copy(update={"auth_rate_limit_per_minute": Settings().auth_rate_limit_per_minute})
    app: Litestar = create_app(defaults, passwords=FAST_PASSWORDS)
    app.asgi_handler = _with_peer(app.asgi_handler)
    app.state.auth_limits = AuthLimits(defaults, lambda: app.stores.get(STORE_NAME), clock=clock)
    async with AsyncTestClient(app=app, base_url="http://coop.test") as test_client:
        yield test_client


async def _members(settings: Settings, database_url: URL, count: int) -> list[str]:
    """Admitted members written in one transaction with one shared password hash (registering 200
    through the API from one address would rightly meet the registration ceiling)."""
    database = open_database(settings, database_url)
    emails = [f"venue.{index}@assembly.example" for index in range(count)]
    password_hash = await FAST_PASSWORDS.hash(TEST_PASSWORD)
    try:
        async with database.sessionmaker() as session, session.begin():
            session.add_all(
                Account(
                    email=email,
                    email_skeleton=email_skeleton(email),
                    display_name="Venue Member",
                    password_hash=password_hash,
                    role=Role.MEMBER.value,
                    member_status=MemberStatus.MEMBER.value,
                )
                for email in emails
            )
    finally:
        await database.dispose()
    return emails


async def test_a_room_signs_in_from_one_address_and_a_guesser_is_stopped_from_many(
    venue_client: AsyncTestClient, settings: Settings, database_url: URL, clock: Clock
) -> None:
    emails = await _members(settings, database_url, ROOM)
    at_venue = {"x-test-peer": VENUE}

    async def sign_in(email: str, password: str, headers: dict[str, str]) -> int:
        response = await venue_client.post(
            "/api/v1/auth/sign-in", json={"email": email, "password": password}, headers=headers
        )
        return response.status_code

    # A few typos on the way in, as in any real room; then everyone gets in.
    typos = [await sign_in(email, "wrong password, sorry", at_venue) for email in emails[:30]]
    assert set(typos) == {401}
    statuses = []
    for batch in range(0, ROOM, 20):
        statuses += await asyncio.gather(
            *(sign_in(email, TEST_PASSWORD, at_venue) for email in emails[batch : batch + 20])
        )
    assert statuses.count(200) == ROOM, {code: statuses.count(code) for code in set(statuses)}

    # Twenty wrong passwords on one account, each from another address: stopped after a few.
    target = emails[-1]  # made no typo earlier
    clock.now += 600  # the room's minutes have passed
    guesses = [await sign_in(target, f"guess {n}", {"x-test-peer": f"203.0.113.{n + 1}"}) for n in range(20)]
    assert guesses == [401] * 5 + [429] * 15
    refused = await venue_client.post(
        "/api/v1/auth/sign-in", json={"email": target, "password": TEST_PASSWORD}, headers={"x-test-peer": "192.0.2.9"}
    )
    assert refused.status_code == 429, "even the right password waits out the backoff"
    assert refused.json()["type"] == "urn:coop:problem:rate-limited"
    assert refused.headers["retry-after"] == "1"
    # Each further failure doubles the wait: guessing goes nowhere, the owner waits seconds.
    waits = []
    for _ in range(4):
        clock.now += int(refused.headers["retry-after"])
        assert await sign_in(target, "another guess", {"x-test-peer": "192.0.2.10"}) == 401
        refused = await venue_client.post(
            "/api/v1/auth/sign-in", json={"email": target, "password": TEST_PASSWORD}, headers=at_venue
        )
        waits.append(int(refused.headers["retry-after"]))
    assert waits == [2, 4, 8, 16]
    clock.now += 16
    assert await sign_in(target, TEST_PASSWORD, at_venue) == 200, "the owner gets in once the wait is over"
    # Other accounts, from anywhere, are not affected.
    assert await sign_in(emails[1], TEST_PASSWORD, {"x-test-peer": "203.0.113.5"}) == 200


async def test_refresh_is_limited_per_session_and_sign_out_never(
    venue_client: AsyncTestClient, settings: Settings, database_url: URL
) -> None:
    email, other = await _members(settings, database_url, 2)
    at_venue = {"x-test-peer": VENUE}
    tokens = (
        await venue_client.post(
            "/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD}, headers=at_venue
        )
    ).json()
    statuses = []
    for _ in range(settings.refresh_per_session_per_minute + 2):
        response = await venue_client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=at_venue
        )
        statuses.append(response.status_code)
        if response.status_code == 200:
            tokens = response.json()
    assert statuses[: settings.refresh_per_session_per_minute] == [200] * settings.refresh_per_session_per_minute
    assert statuses[-1] == 429 and "retry-after" in response.headers
    # Another session from the same address refreshes as it likes; and signing out always works.
    second = (
        await venue_client.post(
            "/api/v1/auth/sign-in", json={"email": other, "password": TEST_PASSWORD}, headers=at_venue
        )
    ).json()
    again = await venue_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}, headers=at_venue
    )
    assert again.status_code == 200
    for _ in range(Settings().auth_rate_limit_per_minute + 5):  # more than any address ceiling allows
        out = await venue_client.post(
            "/api/v1/auth/sign-out", headers={**at_venue, "Authorization": f"Bearer {again.json()['access_token']}"}
        )
        assert out.status_code in (204, 401)
    assert out.status_code == 401, "the session ended at the first sign-out; none was ever a 429"
