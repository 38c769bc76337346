"""A browser-like client for the web pages: cookies kept, CSRF token read from the page's forms."""

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
        self._token: str | None = None

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, headers=self.headers, follow_redirects=False, **kwargs)
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
        return await self.client.post(path, data=body, headers=self.headers, follow_redirects=False)

    async def sign_in(self, email: str, password: str = TEST_PASSWORD) -> httpx.Response:
        response = await self.post("/sign-in", {"email": email, "password": password, "next": "/dashboard"})
        assert response.status_code == 303, response.text
        return response


def new_browser(app: Any, language: str = "fr") -> AsyncTestClient:
    return AsyncTestClient(app=app, base_url="http://coop.test")
