"""Sign in with an OpenID Connect provider from the web sign-in page, against oidc-provider-mock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient
from oidc_provider_mock import run_server_in_thread
from pydantic import SecretStr

from app.main import create_app
from app.settings import OidcProviderSettings, Settings
from tests.conftest import FAST_PASSWORDS
from tests.integration.conftest import unique_email
from tests.integration.web.helpers import Browser


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


async def test_sign_in_with_a_provider_sets_the_cookie_session(
    oidc_client: AsyncTestClient, provider_issuer: str
) -> None:
    browser = Browser(oidc_client)
    page = await browser.get("/sign-in")
    assert 'href="/sign-in/oidc/mock"' in page.text
    started = await browser.get("/sign-in/oidc/mock")
    assert started.status_code == 302
    authorization_url = started.headers["location"]
    assert "redirect_uri=http%3A%2F%2Fcoop.test%2Fsign-in%2Foidc%2Fmock%2Fcallback" in authorization_url
    email = unique_email("web-oidc")
    async with httpx.AsyncClient() as provider:
        claims = {"email": email, "email_verified": True, "name": "Inès Web"}
        assert (await provider.put(f"{provider_issuer}/users/web-1", json=claims)).status_code == 204
        consent = await provider.post(authorization_url, data={"sub": "web-1"})
    callback = urlsplit(consent.headers["location"])
    assert callback.path == "/sign-in/oidc/mock/callback"

    stranger = Browser(oidc_client)  # another browser, without the binding cookie, is refused
    refused = await stranger.get(f"{callback.path}?{callback.query}")
    assert refused.status_code == 401 and "text/html" in refused.headers["content-type"]

    # The refused attempt spent the state: a fresh one for the real browser.
    started = await browser.get("/sign-in/oidc/mock")
    async with httpx.AsyncClient() as provider:
        consent = await provider.post(started.headers["location"], data={"sub": "web-1"})
    callback = urlsplit(consent.headers["location"])
    landed = await browser.get(f"{callback.path}?{callback.query}")
    assert landed.status_code == 303 and landed.headers["location"] == "/dashboard"
    dashboard = await browser.get("/dashboard")
    assert dashboard.status_code == 200 and "Inès Web" in dashboard.text
    assert (await browser.get("/sign-in/oidc/nobody")).status_code == 404
