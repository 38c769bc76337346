"""Sign in with OpenID Connect, end to end against a real provider (oidc-provider-mock) on loopback.

The mock provider does not enforce PKCE, so these tests check that our authorization request
carries an S256 challenge; the state, the nonce and the ID token signature are checked for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient
from oidc_provider_mock import run_server_in_thread
from pydantic import SecretStr

from app.main import create_app
from app.settings import OidcProviderSettings, Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD
from tests.integration.conftest import register, unique_email


@pytest.fixture(scope="module")
def provider_issuer() -> Iterator[str]:
    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
async def oidc_client(settings: Settings, provider_issuer: str) -> AsyncIterator[AsyncTestClient]:
    provider = OidcProviderSettings(
        name="mock", issuer=provider_issuer, client_id="coop-platform", client_secret=SecretStr("s3cret")
    )
    app = create_app(settings.model_copy(update={"oidc_providers": [provider]}), passwords=FAST_PASSWORDS)
    async with AsyncTestClient(app=app, base_url="http://coop.test") as client:
        yield client


async def _authorize(client: AsyncTestClient, issuer: str, sub: str, claims: dict[str, object]) -> str:
    """Run the browser's part: start, consent at the provider, and return our callback path."""
    started = await client.get("/api/v1/auth/oidc/mock/start")
    assert started.status_code == 200, started.text
    authorization_url = started.json()["authorization_url"]
    query = parse_qs(urlsplit(authorization_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["nonce"] and query["state"] == [started.json()["state"]]
    async with httpx.AsyncClient() as browser:
        assert (await browser.put(f"{issuer}/users/{sub}", json=claims)).status_code == 204
        consent = await browser.post(authorization_url, data={"sub": sub})
    assert consent.status_code == 302, consent.text
    callback = urlsplit(consent.headers["location"])
    assert callback.path == "/api/v1/auth/oidc/mock/callback"
    return f"{callback.path}?{callback.query}"


async def test_first_sign_in_creates_a_verified_applicant(oidc_client: AsyncTestClient, provider_issuer: str) -> None:
    email = unique_email("oidc")
    callback = await _authorize(
        oidc_client, provider_issuer, "sub-1", {"email": email, "email_verified": True, "name": "Inès"}
    )
    tokens = await oidc_client.get(callback)
    assert tokens.status_code == 200, tokens.text
    me = (
        await oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    ).json()
    assert me["email"] == email and me["email_verified"] is True
    assert me["role"] == "member" and me["member_status"] == "applicant"
    assert me["display_name"] == "Inès"

    # Signing in again with the same subject reaches the same account.
    again = await oidc_client.get(
        await _authorize(oidc_client, provider_issuer, "sub-1", {"email": email, "email_verified": True})
    )
    me_again = (
        await oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
    ).json()
    assert me_again["id"] == me["id"]


async def test_links_to_the_account_with_the_same_verified_email(
    oidc_client: AsyncTestClient, provider_issuer: str
) -> None:
    actor = await register(oidc_client)
    callback = await _authorize(oidc_client, provider_issuer, "sub-2", {"email": actor.email, "email_verified": True})
    tokens = (await oidc_client.get(callback)).json()
    me = (await oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    assert me["id"] == actor.account_id


async def test_an_unverified_local_account_loses_its_password_when_the_owner_signs_in(
    oidc_client: AsyncTestClient, provider_issuer: str
) -> None:
    """Pre-hijacking defence: whoever registered the address without proving it loses access."""
    squatter = await register(oidc_client)
    callback = await _authorize(
        oidc_client, provider_issuer, "sub-3", {"email": squatter.email, "email_verified": True}
    )
    assert (await oidc_client.get(callback)).status_code == 200
    assert (await oidc_client.get("/api/v1/me", headers=squatter.headers)).status_code == 401
    password = await oidc_client.post("/api/v1/auth/sign-in", json={"email": squatter.email, "password": TEST_PASSWORD})
    assert password.status_code == 401


async def test_unverified_provider_email_never_links(oidc_client: AsyncTestClient, provider_issuer: str) -> None:
    actor = await register(oidc_client)
    callback = await _authorize(oidc_client, provider_issuer, "sub-4", {"email": actor.email, "email_verified": False})
    response = await oidc_client.get(callback)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:coop:problem:conflict"


async def test_unverified_provider_email_creates_no_account(
    oidc_client: AsyncTestClient, provider_issuer: str, settings: Settings
) -> None:
    """Otherwise anyone could squat an address (and keep a way in after its owner claims it)."""
    email = unique_email("squat")
    callback = await _authorize(oidc_client, provider_issuer, "sub-6", {"email": email, "email_verified": False})
    assert (await oidc_client.get(callback)).status_code == 409
    registered = await oidc_client.post(
        "/api/v1/auth/register", json={"email": email, "password": TEST_PASSWORD, "display_name": "Owner"}
    )
    assert registered.status_code == 201


async def test_a_callback_url_is_useless_in_another_browser(oidc_client: AsyncTestClient, provider_issuer: str) -> None:
    """Login CSRF and code interception: the state is bound to the starting browser by a cookie."""
    callback = await _authorize(
        oidc_client, provider_issuer, "sub-7", {"email": unique_email("o"), "email_verified": True}
    )
    binding = oidc_client.cookies.get("coop_oidc_binding")
    assert binding
    oidc_client.cookies.clear()
    other_browser = await oidc_client.get(callback)
    assert other_browser.status_code == 401
    assert other_browser.json()["type"] == "urn:coop:problem:invalid-token"


async def test_provider_claims_are_sanitised(oidc_client: AsyncTestClient, provider_issuer: str) -> None:
    claims = {"email": unique_email("n"), "email_verified": True, "name": "Mallory\x1b[31m\u0000" + "x" * 500}
    tokens = (await oidc_client.get(await _authorize(oidc_client, provider_issuer, "sub-8", claims))).json()
    me = (await oidc_client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    assert me["display_name"].startswith("Mallory") and len(me["display_name"]) <= 120
    assert all(character.isprintable() for character in me["display_name"])


async def test_state_is_single_use_and_must_match(oidc_client: AsyncTestClient, provider_issuer: str) -> None:
    callback = await _authorize(
        oidc_client, provider_issuer, "sub-5", {"email": unique_email("o"), "email_verified": True}
    )
    path, query = callback.split("?", 1)
    params = parse_qs(query)
    forged = await oidc_client.get(path, params={"code": params["code"][0], "state": "x" * 43})
    assert forged.status_code == 401
    assert (await oidc_client.get(callback)).status_code == 200
    replay = await oidc_client.get(callback)
    assert replay.status_code == 401


async def test_unknown_provider_is_a_404_problem(oidc_client: AsyncTestClient) -> None:
    response = await oidc_client.get("/api/v1/auth/oidc/nobody/start")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = (await oidc_client.get("/api/v1/auth/oidc")).json()
    assert [provider["name"] for provider in listed] == ["mock"]
