"""Authorization-matrix rows of the training-paths feature.

The catalogue is public to read and the administrators' to change; a path is its member's alone.
Administrators are not members: they have no profile, so the path routes answer them 403 like clients.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor, Actors
from tests.integration.members.factories import skill_id
from tests.integration.platform.matrix import ANYONE, Rule, expect
from tests.integration.training.helpers import import_catalogue

PATHS = "/api/v1/me/training-paths"


async def catalogue(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    await import_catalogue(client, actors.admin)
    listed = (await client.get("/api/v1/trainings")).json()["items"]
    return {"training": listed[0]["id"], "python": await skill_id(client, "python")}


async def path_of_owner(client: AsyncTestClient, actors: Actors) -> dict[str, Any]:
    context = await catalogue(client, actors)
    target = {"skills": [{"skill_id": context["python"], "level": 4}], "optimise": "duration"}
    followed = await client.post(PATHS, json=target, headers=actors.owner.headers)
    assert followed.status_code == 201, followed.text
    path = followed.json()
    await client.put(
        "/api/v1/me/profile",
        json={
            "display_name": "Owner",
            "headline": "Membre",
            "day_rate_min_minor": 0,
            "day_rate_max_minor": 0,
            "city": "Lyon",
            "region": "Auvergne-Rhône-Alpes",
            "work_mode": "remote",
        },
        headers=actors.owner.headers,
    )
    return {**context, "path": path["id"], "step": path["steps"][0]["id"]}


def training_body(actors: Actors, actor: Actor) -> dict[str, Any]:
    return {
        "reference": f"M-{uuid.uuid4().hex[:8]}",
        "title": "Formation",
        "provider": "Coop",
        "duration_hours": 7,
        "cost_minor": 0,
        "format": "remote",
        "skills": [{"skill_id": actors.context["python"], "level": 2}],
    }


ROWS: list[Rule] = [
    Rule("GET", "/api/v1/trainings", ANYONE, why="the catalogue is public"),
    Rule(
        "GET",
        "/api/v1/trainings/{training_id}",
        ANYONE,
        url=lambda a: f"/api/v1/trainings/{a.context['training']}",
        setup=catalogue,
        why="the catalogue is public",
    ),
    Rule(
        "POST",
        "/api/v1/trainings",
        expect(403, 403, 403, 201, 401),
        body=training_body,
        setup=catalogue,
        why="administrators keep the catalogue",
    ),
    Rule(
        "PUT",
        "/api/v1/trainings/{training_id}",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/trainings/{a.context['training']}",
        body=training_body,
        setup=catalogue,
        why="administrators keep the catalogue",
    ),
    Rule(
        "POST",
        "/api/v1/trainings/import",
        expect(403, 403, 403, 200, 401),
        body={
            "csv": "reference,title,provider,duration_hours,cost_minor,format,place,cpf_eligible,skills,description\n"
            "IMP-1,Intro,Coop,7,0,remote,,no,python:1,\n"
        },
        why="administrators import the catalogue",
    ),
    Rule(
        "POST",
        PATHS + "/plan",
        expect(200, 200, 403, 403, 401),
        body=lambda a, actor: {"skills": [{"skill_id": a.context["python"], "level": 4}], "optimise": "cost"},
        setup=catalogue,
        why="each admitted member plans for themself",
    ),
    Rule(
        "POST",
        PATHS,
        expect(201, 201, 403, 403, 401),
        body=lambda a, actor: {"skills": [{"skill_id": a.context["python"], "level": 4}], "optimise": "cost"},
        setup=catalogue,
        why="each admitted member follows their own path",
    ),
    Rule("GET", PATHS, expect(200, 200, 403, 403, 401), why="each member lists their own paths"),
    Rule(
        "GET",
        PATHS + "/{path_id}",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"{PATHS}/{a.context['path']}",
        setup=path_of_owner,
        why="the owner's path; to another member it does not exist",
    ),
    Rule(
        "POST",
        PATHS + "/{path_id}/steps/{step_id}/done",
        expect(200, 404, 403, 403, 401),
        url=lambda a: f"{PATHS}/{a.context['path']}/steps/{a.context['step']}/done",
        setup=path_of_owner,
        why="only the owner marks their steps done",
    ),
]
