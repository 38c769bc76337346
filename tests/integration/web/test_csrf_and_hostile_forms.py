"""Every form refuses a request without its CSRF token; every form survives hostile values.

The routes are read from the application, so a page added later is covered without editing here.
The OpenAPI document must not list any of them: the API's own harnesses walk that document.
"""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.web.conftest import Browsers
from tests.integration.web.routes import web_routes

TEMPLATES = Path(__file__).parents[3] / "app" / "web" / "templates"
FIELD_NAMES = sorted(
    {name for page in TEMPLATES.rglob("*.html") for name in re.findall(r'name="([a-z_:]+)"', page.read_text())}
    - {"_csrf_token"}
)
HOSTILE_VALUES = [
    "<script>alert('x')</script>'; drop table account; --\x00\x01\x1b[31m\u202egnp.exe ../../etc/passwd",
    "x" * 30_000,
    "-99999999999999999999999",
]


async def test_web_routes_are_not_in_the_openapi_document(app: Litestar, client: AsyncTestClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    templates = {route.template.split("{")[0].rstrip("/") or "/" for route in web_routes(app)}
    listed = set(document["paths"])
    assert not {path for path in listed if not path.startswith(("/api/", "/health", "/.well-known"))}
    assert "/sign-in" in templates and "/sign-in" not in listed


async def test_every_form_refuses_a_missing_or_forged_csrf_token(app: Litestar, browsers: Browsers) -> None:
    posts = [route for route in web_routes(app) if route.method == "POST"]
    assert len(posts) >= 20
    for browser in (browsers.owner, browsers.anonymous):
        for route in posts:
            missing = await browser.post(route.url(), {"email": "a@example.org"}, csrf=False)
            assert missing.status_code == 403, (route, missing.status_code)
            assert missing.headers["content-type"].startswith("text/html"), route
            forged = await browser.post(route.url(), {"_csrf_token": "f" * 128}, csrf=False)
            assert forged.status_code == 403, route


async def test_every_form_survives_hostile_values(app: Litestar, browsers: Browsers) -> None:
    posts = [route for route in web_routes(app) if route.method == "POST" and "sign-out" not in route.template]
    for value in HOSTILE_VALUES:
        body = {name: value for name in FIELD_NAMES}
        for browser in (browsers.owner, browsers.admin):
            for route in posts:
                response = await browser.post(route.url(), body)
                assert response.status_code < 500, (route, value[:20], response.text[-500:])
                assert "<script>alert" not in response.text, route
    gets = [route for route in web_routes(app) if route.method == "GET" and "static" not in route.template]
    query = {name: HOSTILE_VALUES[0] for name in ("q", "skill", "region", "work_mode", "token", "next", "offset")}
    for route in gets:
        response = await browsers.owner.get(route.url(), params=query)
        assert response.status_code < 500 and "<script>alert" not in response.text, route
    # Still signed in and still the same people: nothing hostile changed an account behind the scenes.
    assert (await browsers.owner.get("/dashboard")).status_code == 200
