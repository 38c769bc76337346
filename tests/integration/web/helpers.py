"""A browser-like client for the web pages: its own cookie jar, CSRF token read from the page's forms.

Several `Browser`s share one test client (one application lifespan); each swaps its cookies in and
out around its requests, so an owner, a client and an admin can browse side by side.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from tests.conftest import TEST_PASSWORD

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, client: AsyncTestClient, language: str = "fr") -> None:
        self.client = client
        self.headers = {"accept-language": language, "accept": "text/html"}
        self.jar: dict[str, str] = {}
        self._token: str | None = None

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.client.cookies.clear()
        for name, value in self.jar.items():
            self.client.cookies.set(name, value)
        response = await self.client.request(method, path, headers=self.headers, follow_redirects=False, **kwargs)
        self.jar = {cookie.name: cookie.value for cookie in self.client.cookies.jar if cookie.value}
        return response

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._send("GET", path, **kwargs)
        for form in response.text.split('<form method="post"')[1:]:
            # Every form a page renders carries its token (the helper would otherwise hide a missing one).
            assert 'name="_csrf_token"' in form.split("</form>")[0], f"{path}: a form without its CSRF token"
        found = _CSRF.search(response.text)
        if found:
            self._token = found.group(1)
        return response

    async def csrf(self) -> str:
        if self._token is None:
            await self.get("/sign-in")
        assert self._token
        return self._token

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["_csrf_token"] = await self.csrf()
        return await self._send("POST", path, data=body)

    async def sign_in(self, email: str, password: str = TEST_PASSWORD) -> httpx.Response:
        response = await self.post("/sign-in", {"email": email, "password": password, "next": "/dashboard"})
        assert response.status_code == 303, response.text
        return response


async def signed_in(client: AsyncTestClient, email: str, language: str = "fr") -> Browser:
    browser = Browser(client, language)
    await browser.sign_in(email)
    return browser
