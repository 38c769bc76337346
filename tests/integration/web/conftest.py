"""Each matrix actor as a signed-in browser (cookie session), beside their API identity."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.web.helpers import Browser, signed_in


@dataclass
class Browsers:
    owner: Browser
    other_member: Browser
    client: Browser
    admin: Browser
    anonymous: Browser

    def by_name(self, name: str) -> Browser:
        return getattr(self, name)


@pytest.fixture
async def browsers(client: AsyncTestClient, actors: Actors) -> Browsers:
    return Browsers(
        owner=await signed_in(client, actors.owner.email or ""),
        other_member=await signed_in(client, actors.other_member.email or ""),
        client=await signed_in(client, actors.client.email or ""),
        admin=await signed_in(client, actors.admin.email or ""),
        anonymous=Browser(client),
    )
