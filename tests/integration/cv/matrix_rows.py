"""Authorization-matrix rows of the skills-from-a-CV feature: a member's CVs are theirs alone.

Administrators are not members: they have no profile to fill, so the CV routes answer them 403 like clients.
"""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.platform.matrix import Rule, expect

BASE = "/api/v1/me/cv-extractions"


async def extraction_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    cv = "\n".join(["Camille Martin", "Développeuse Python et Django depuis 2018.", "PostgreSQL, Docker."]).encode()
    response = await client.post(BASE, files={"file": ("cv.txt", cv, "text/plain")}, headers=actors.owner.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    return {"extraction": body["id"], "suggestion": body["suggestions"][0]["id"]}


ROWS: list[Rule] = [
    Rule(
        "POST",
        BASE,
        expect(400, 400, 403, 403, 401),
        body={"file": "a JSON body is not a multipart upload"},
        why="admitted members upload their own CV (the 201 path, as multipart, is in tests/integration/cv)",
    ),
    Rule("GET", BASE, expect(200, 200, 403, 403, 401), why="each member lists their own extractions"),
    Rule(
        "GET",
        BASE + "/{extraction_id}",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"{BASE}/{a.context['extraction']}",
        setup=extraction_of_owner,
        why="the owner's extraction; to another member it does not exist",
    ),
    Rule(
        "DELETE",
        BASE + "/{extraction_id}",
        expect(204, 404, 403, 403, 401),
        url=lambda a: f"{BASE}/{a.context['extraction']}",
        setup=extraction_of_owner,
        why="only the owner forgets their extraction",
    ),
    Rule(
        "POST",
        BASE + "/{extraction_id}/suggestions/{suggestion_id}/decision",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"{BASE}/{a.context['extraction']}/suggestions/{a.context['suggestion']}/decision",
        body={"decision": "reject"},
        setup=extraction_of_owner,
        why="only the owner decides on their suggestions",
    ),
]
