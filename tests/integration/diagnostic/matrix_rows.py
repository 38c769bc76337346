"""Authorization-matrix rows of the needs diagnostic.

Anyone takes the questionnaire; a result belongs to whoever took it signed in, or claimed it with its
token after signing up. Administrators read results but post no missions (clients and members do).
"""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.platform.matrix import ANYONE, Rule, expect

BASE = "/api/v1/diagnostic"
ANSWERS = {
    "answers": [{"question": "goals", "answers": ["showcase_site"]}, {"question": "budget", "answers": ["under_5k"]}]
}


async def anonymous_results(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    """One anonymous result per actor, so each signed-in caller has a token of its own to claim."""
    tokens = {}
    for actor in actors.all():
        taken = await client.post(f"{BASE}/results", json=ANSWERS)
        assert taken.status_code == 201, taken.text
        tokens[actor.name] = taken.json()["claim_token"]
    return {"tokens": tokens}


async def result_of_client(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    taken = await client.post(f"{BASE}/results", json=ANSWERS, headers=actors.client.headers)
    assert taken.status_code == 201, taken.text
    body = taken.json()
    return {"result": body["id"], "mission": body["draft"]["mission"]}


ROWS: list[Rule] = [
    Rule("GET", BASE, ANYONE, why="the questionnaire is public"),
    Rule(
        "POST",
        f"{BASE}/results",
        expect(201, 201, 201, 201, 201),
        body=ANSWERS,
        why="anyone takes the diagnostic; anonymous visitors get a claim token",
    ),
    Rule(
        "POST",
        f"{BASE}/results/claim",
        expect(200, 200, 200, 200, 401),
        body=lambda a, actor: {"token": a.context["tokens"][actor.name]},
        setup=anonymous_results,
        why="whoever signs up or in with the token keeps the result",
    ),
    Rule(
        "GET",
        f"{BASE}/results/{{result_id}}",
        expect(404, 404, 200, 200, 401),
        url=lambda a: f"{BASE}/results/{a.context['result']}",
        setup=result_of_client,
        why="the client's result; to others it does not exist",
    ),
    Rule(
        "POST",
        f"{BASE}/results/{{result_id}}/mission",
        expect(404, 404, 201, 403, 401),
        url=lambda a: f"{BASE}/results/{a.context['result']}/mission",
        body=lambda a, actor: a.context["mission"],
        setup=result_of_client,
        why="the result's owner posts its mission; administrators post no missions",
    ),
]
