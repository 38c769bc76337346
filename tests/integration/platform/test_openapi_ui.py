"""The interactive docs load nothing from outside (issue 9, item 10): every script, style sheet and
icon the pages reference is served by the application itself, pinned, and answers."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


async def test_openapi_pages_reference_only_vendored_assets(client: AsyncTestClient) -> None:
    for page in ("/schema", "/schema/swagger"):
        response = await client.get(page)
        assert response.status_code == 200, page
        references = REFERENCE.findall(response.text)
        assert references, page
        external = [url for url in references if re.match(r"^(https?:)?//", url)]
        assert external == [], f"{page} loads {external}"
        for url in references:
            if url.startswith("/schema/assets/"):
                asset = await client.get(url)
                assert asset.status_code == 200, url
                assert len(asset.content) > 20, url
    script = await client.get("/schema/assets/scalar/standalone.js")
    assert "javascript" in script.headers["content-type"]
    assert (await client.get("/schema/assets/VENDORED.md")).status_code == 200
    assert (await client.get("/schema/assets/../__init__.py")).status_code == 404
