"""A small catalogue and a mission to aim at, for the training-paths tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor
from tests.integration.members.factories import skill_id
from tests.integration.missions.helpers import open_mission

CATALOGUE_CSV = """reference,title,provider,duration_hours,cost_minor,format,place,cpf_eligible,skills,description
PY-ADV,Python avancé,Coop Formation,35,180000,remote,,oui,python:4,"Tests, typage, asynchrone"
DJ-1,Django de A à Z,Coop Formation,28,150000,on_site,Lyon,yes,django:3;python:3,
FULL,Parcours back-end complet,École du Libre,120,90000,hybrid,Paris,non,python:4;django:3;docker:2,Long mais peu cher
DOCK,Docker pour les développeurs,Infra Coop,14,70000,remote,,no,docker:3,
"""


async def import_catalogue(client: AsyncTestClient, admin: Actor) -> dict[str, Any]:
    response = await client.post("/api/v1/trainings/import", json={"csv": CATALOGUE_CSV}, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def seat_mission(client: AsyncTestClient, owner: Actor) -> dict[str, Any]:
    """An open mission whose one seat needs Python 4, Django 3 and Docker 2."""
    skills = [
        {"skill_id": await skill_id(client, slug), "min_level": level}
        for slug, level in (("python", 4), ("django", 3), ("docker", 2))
    ]
    return await open_mission(client, owner, seats=[{"title": "Développeuse back-end", "skills": skills}])
