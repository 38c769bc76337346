"""Account pages through HTTP, like a browser without JavaScript: forms, the mailed links, cookies."""

from __future__ import annotations

import time

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.core.rate_limit import STORE_NAME, AuthLimits
from app.main import create_app
from app.settings import Settings
from tests.conftest import FAST_PASSWORDS, TEST_PASSWORD, Mailbox
from tests.integration.conftest import unique_email
from tests.integration.web.helpers import Browser


async def test_sign_up_verify_sign_in_sessions_and_sign_out(
    app: Litestar, client: AsyncTestClient, mailbox: Mailbox
) -> None:
    browser = Browser(client)
    form = await browser.get("/sign-up")
    assert form.status_code == 200 and 'lang="fr"' in form.text and "Créer mon compte" in form.text
    email = unique_email("web")

    weak = await browser.post(
        "/sign-up", {"role": "member", "display_name": "Zoé", "email": email, "password": "azerty"}
    )
    assert weak.status_code == 422 and 'role="alert"' in weak.text and 'aria-invalid="true"' in weak.text
    assert "azerty" not in weak.text  # a refused password is never echoed back

    created = await browser.post(
        "/sign-up", {"role": "member", "display_name": "Zoé Web", "email": email, "password": TEST_PASSWORD}
    )
    assert created.status_code == 303 and created.headers["location"] == "/sign-in"
    link = mailbox.wait_for(email)[-1].get_payload(decode=True).decode()
    assert "http://coop.test/verify-email?token=" in link
    token = mailbox.last_token(email)

    landing = await browser.get(f"/verify-email?token={token}")
    assert landing.status_code == 200 and token in landing.text  # opening the link spends nothing
    confirmed = await browser.post("/verify-email", {"token": token})
    assert confirmed.status_code == 303
    again = await browser.post("/verify-email", {"token": token})
    assert again.status_code == 401 and "error-summary" in again.text

    wrong = await browser.post("/sign-in", {"email": email, "password": "not the password", "next": "/dashboard"})
    assert wrong.status_code == 401 and "error-summary" in wrong.text
    signed_in = await browser.sign_in(email)
    cookie = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith("coop_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # http://coop.test: Secure only behind https

    dashboard = await browser.get("/dashboard")
    assert dashboard.status_code == 200 and "Zoé Web" in dashboard.text

    # The same sessions table as the API: a token's session shows here, and ending it here ends it there.
    api = await client.post("/api/v1/auth/sign-in", json={"email": email, "password": TEST_PASSWORD})
    bearer = {"Authorization": f"Bearer {api.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    sessions = await browser.get("/account/sessions")
    rows = sessions.text.split("<tr>")[2:]
    assert len(rows) == 2 and sum("ce navigateur" in row for row in rows) == 1
    api_row = next(row for row in rows if "ce navigateur" not in row)
    api_session = api_row.split('action="/account/sessions/')[1].split("/end")[0]
    ended = await browser.post(f"/account/sessions/{api_session}/end")
    assert ended.status_code == 303
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (await browser.get("/dashboard")).status_code == 200

    # Signing out ends the browser's session row: the old cookie is dead even if replayed.
    out = await browser.post("/sign-out")
    assert out.status_code == 303
    client.cookies.set("coop_session", cookie.split("coop_session=")[1].split(";")[0])
    replay = await browser.get("/dashboard")
    assert replay.status_code == 303 and replay.headers["location"].startswith("/sign-in?next=/dashboard")


async def test_password_reset_by_the_mailed_link_ends_every_session(client: AsyncTestClient, mailbox: Mailbox) -> None:
    browser = Browser(client, language="en")
    email = unique_email("reset")
    await browser.post("/sign-up", {"role": "member", "display_name": "Ray", "email": email, "password": TEST_PASSWORD})
    await browser.sign_in(email)
    asked = await browser.post("/forgot-password", {"email": email})
    unknown = await browser.post("/forgot-password", {"email": unique_email("nobody")})
    assert asked.status_code == unknown.status_code == 303  # the same answer, account or not
    token = mailbox.last_token(email, count=2, subject="Reset your password")
    assert f"http://coop.test/reset-password?token={token}" in next(
        m.get_payload(decode=True).decode() for m in mailbox.to(email) if m["Subject"] == "Reset your password"
    )
    form = await browser.get(f"/reset-password?token={token}")
    assert form.status_code == 200 and "Choose a new password" in form.text
    new_password = "a brand new sentence for my account 77"
    changed = await browser.post("/reset-password", {"token": token, "password": new_password})
    assert changed.status_code == 303
    assert (await browser.get("/dashboard")).status_code == 303  # the old session ended with the reset
    await browser.sign_in(email, new_password)
    assert (await browser.get("/dashboard")).status_code == 200


async def test_csrf_is_required_on_forms_but_not_on_the_bearer_api(client: AsyncTestClient) -> None:
    browser = Browser(client, language="en")
    refused = await browser.post("/sign-in", {"email": "a@example.org", "password": "x"}, csrf=False)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert "This form has expired" in refused.text
    forged = await client.post(
        "/sign-in", data={"email": "a@example.org", "password": "x", "_csrf_token": "0" * 128}, headers=browser.headers
    )
    assert forged.status_code == 403
    api = await client.post("/api/v1/auth/sign-in", json={"email": "a@example.org", "password": "x"})
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")


async def test_language_from_accept_language_and_the_switch(client: AsyncTestClient) -> None:
    french = await client.get("/sign-in")
    assert 'lang="fr"' in french.text and "Se connecter" in french.text
    english = await client.get("/sign-in", headers={"accept-language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert 'lang="en"' in english.text and "Sign in" in english.text
    switched = await client.get("/language/en?next=/sign-up", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/sign-up"
    assert 'lang="en"' in (await client.get("/sign-up")).text
    escape = await client.get("/language/fr?next=https://evil.example/", follow_redirects=False)
    assert escape.headers["location"] == "/"
    assert 'lang="fr"' in (await client.get("/sign-up", headers={"accept-language": "en"})).text


class _FrozenClock:
    """The limits' clock held still: a backoff lasts until the test ends, however slow the machine."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_web_forms_share_the_api_auth_rate_limit(settings: Settings) -> None:
    limited_settings = settings.model_copy(update={"auth_rate_limit_per_minute": 3, "sign_in_free_failures": 3})
    limited = create_app(limited_settings, passwords=FAST_PASSWORDS)
    store = lambda: limited.stores.get(STORE_NAME)  # noqa: E731
    limited.state.auth_limits = AuthLimits(limited_settings, store, clock=_FrozenClock())
    email = unique_email("limited")
    async with AsyncTestClient(app=limited, base_url="http://coop.test") as client:
        browser = Browser(client, language="en")
        for _ in range(5):
            assert (await browser.get("/sign-in")).status_code == 200  # reading the form is never limited
        # The per-account failures of the API's sign-in (issue 9): two wrong passwords typed in the
        # browser, one sent by a script, and the account backs off for both.
        statuses = [
            (await browser.post("/sign-in", {"email": email, "password": "wrong"})).status_code for _ in range(2)
        ]
        api = await client.post("/api/v1/auth/sign-in", json={"email": email, "password": "wrong"})
        assert statuses == [401, 401] and api.status_code == 401
        refused = await browser.post("/sign-in", {"email": email, "password": "wrong"})
        assert refused.status_code == 429 and "error-summary" in refused.text and "Too many attempts" in refused.text
        assert int(refused.headers["retry-after"]) >= 1
        again = await client.post("/api/v1/auth/sign-in", json={"email": email, "password": "wrong"})
        assert again.status_code == 429  # one budget for the browser and the API
        # Another account is not slowed by this one's guesser (sign-in is out of the address ceiling).
        other = await browser.post("/sign-in", {"email": unique_email("other"), "password": "wrong"})
        assert other.status_code == 401
        # The other auth forms keep the per-address ceiling (3 a minute here), shared with the API too.
        forgot = [
            (await browser.post("/forgot-password", {"email": unique_email("forgot")})).status_code for _ in range(3)
        ]
        api_forgot = await client.post("/api/v1/auth/password-reset/request", json={"email": unique_email("forgot")})
        assert forgot == [303, 303, 303] and api_forgot.status_code == 429


async def test_an_unknown_address_is_a_page_for_browsers_and_a_problem_for_the_api(client: AsyncTestClient) -> None:
    html = {"accept": "text/html,application/xhtml+xml", "accept-language": "en"}
    page = await client.get("/no-such-page", headers=html)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'lang="en"' in page.text and "This page does not exist" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    api = await client.get("/api/v1/no-such-thing", headers=html)
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
    plain = await client.get("/no-such-page")
    assert plain.headers["content-type"].startswith("application/problem+json")
