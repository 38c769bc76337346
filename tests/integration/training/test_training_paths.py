"""Training paths through the API: the catalogue (CSV import, edits), a member's gap toward an open
mission's seat, the optimal path explained skill by skill, following it, and the missions it opens."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.members.factories import profile_body, skill_id
from tests.integration.platform.conftest import assert_problem
from tests.integration.training.helpers import import_catalogue, seat_mission

PATHS = "/api/v1/me/training-paths"


async def test_the_catalogue_is_imported_whole_or_not_at_all_and_edited(
    client: AsyncTestClient, actors: Actors
) -> None:
    admin = actors.admin
    bad = (
        "reference,title,provider,duration_hours,cost_minor,format,place,cpf_eligible,skills,description\n"
        "OK-1,Fine,Someone,10,1000,remote,,no,python:2,\n"
        "BAD-1,Wrong format,Someone,10,1000,by pigeon,,no,python:2,\n"
        "BAD-2,Unknown level,Someone,ten,1000,remote,,maybe,python:9,\n"
    )
    refused = await client.post("/api/v1/trainings/import", json={"csv": bad}, headers=admin.headers)
    problem = assert_problem(refused)
    assert refused.status_code == 422 and problem["type"] == "urn:coop:problem:catalogue-csv-invalid"
    assert [e["field"] for e in problem["errors"]] == ["line 3", "line 4"]
    unknown = bad.splitlines()[0] + "\nX-1,Title,Provider,5,0,remote,,no,underwater-basket-weaving:2,\n"
    refused = await client.post("/api/v1/trainings/import", json={"csv": unknown}, headers=admin.headers)
    assert refused.status_code == 422 and "underwater" in refused.json()["errors"][0]["message"]
    assert (await client.get("/api/v1/trainings")).json()["total"] == 0

    assert await import_catalogue(client, admin) == {"created": 4, "updated": 0}
    assert await import_catalogue(client, admin) == {"created": 0, "updated": 4}
    listed = (await client.get("/api/v1/trainings", params={"skill": "django"})).json()
    assert {t["reference"] for t in listed["items"]} == {"DJ-1", "FULL"}
    django = next(t for t in listed["items"] if t["reference"] == "DJ-1")
    assert django["cpf_eligible"] is True and django["cost_minor"] == 150000 and django["place"] == "Lyon"
    assert {(s["skill"]["slug"], s["level"]) for s in django["skills"]} == {("django", 3), ("python", 3)}

    body = {
        "reference": "DJ-1",
        "title": "Django de A à Z",
        "provider": "Coop Formation",
        "duration_hours": 21,
        "cost_minor": 120000,
        "format": "remote",
        "cpf_eligible": True,
        "skills": [{"skill_id": await skill_id(client, "django"), "level": 3}],
    }
    edited = await client.put(f"/api/v1/trainings/{django['id']}", json=body, headers=admin.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["duration_hours"] == 21 and [s["skill"]["slug"] for s in edited.json()["skills"]] == ["django"]
    clash = await client.post("/api/v1/trainings", json=body, headers=admin.headers)
    assert clash.status_code == 409


async def test_a_member_plans_follows_and_completes_a_path_toward_a_seat(
    client: AsyncTestClient, actors: Actors
) -> None:
    await import_catalogue(client, actors.admin)
    mission = await seat_mission(client, actors.client)
    owner = actors.owner
    python = await skill_id(client, "python")
    await client.put("/api/v1/me/profile", json=profile_body([(python, 2)]), headers=owner.headers)

    target = {"mission_id": mission["id"], "seat_id": mission["seats"][0]["id"], "optimise": "duration"}
    planned = await client.post(f"{PATHS}/plan", json=target, headers=owner.headers)
    assert planned.status_code == 200, planned.text
    plan = planned.json()
    # Least duration: PY-ADV (35 h) + DJ-1 (28 h) + DOCK (14 h) = 77 h beats FULL (120 h).
    assert plan["method"] == "exact" and plan["status"] == "planned" and plan["id"] is None
    assert [s["training"]["reference"] for s in plan["steps"]] == ["DOCK", "DJ-1", "PY-ADV"]
    assert plan["total_hours"] == 77 and plan["total_cost_minor"] == 400000
    explained = {s["skill"]["slug"]: s for s in plan["skills"]}
    assert explained["python"]["current_level"] == 2 and explained["python"]["status"] == "covered"
    assert "Python avancé" in explained["python"]["explanation"]
    assert [u["mission_id"] for u in plan["missions_unlocked"]] == [mission["id"]]

    cheapest = await client.post(f"{PATHS}/plan", json={**target, "optimise": "cost"}, headers=owner.headers)
    assert [s["training"]["reference"] for s in cheapest.json()["steps"]] == ["FULL"]
    rust = await skill_id(client, "rust")
    partial = await client.post(
        f"{PATHS}/plan",
        json={"skills": [{"skill_id": rust, "level": 2}, {"skill_id": python, "level": 4}], "optimise": "cost"},
        headers=owner.headers,
    )
    partial = partial.json()
    assert partial["uncovered"] == ["rust"]
    assert (
        "no training in the catalogue teaches it"
        in {s["skill"]["slug"]: s for s in partial["skills"]}["rust"]["explanation"]
    )
    both = await client.post(
        f"{PATHS}/plan", json={**target, "skills": [{"skill_id": rust, "level": 2}]}, headers=owner.headers
    )
    assert both.status_code == 422 and both.json()["type"] == "urn:coop:problem:path-target-invalid"
    half = await client.post(
        f"{PATHS}/plan", json={"mission_id": mission["id"], "optimise": "cost"}, headers=owner.headers
    )
    assert half.status_code == 422

    followed = await client.post(PATHS, json=target, headers=owner.headers)
    assert followed.status_code == 201, followed.text
    path = followed.json()
    assert path["status"] == "active" and len(path["steps"]) == 3
    for index, step in enumerate(path["steps"]):
        done = await client.post(f"{PATHS}/{path['id']}/steps/{step['id']}/done", headers=owner.headers)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == ("completed" if index == 2 else "active")
    again = await client.post(f"{PATHS}/{path['id']}/steps/{step['id']}/done", headers=owner.headers)
    assert again.status_code == 409
    profile = (await client.get("/api/v1/me/profile", headers=owner.headers)).json()
    skills = {s["slug"]: (s["level"], s["provenance"]) for s in profile["skills"]}
    assert skills == {"python": (4, "trained"), "django": (3, "trained"), "docker": (3, "trained")}
    # Trained skills are evidence: a profile PUT that omits them keeps them, as it keeps attested ones.
    await client.put("/api/v1/me/profile", json=profile_body([]), headers=owner.headers)
    profile = (await client.get("/api/v1/me/profile", headers=owner.headers)).json()
    assert {s["slug"]: s["provenance"] for s in profile["skills"]} == dict.fromkeys(skills, "trained")
    # Eligible now: the seat is no longer "unlocked by the path", it is met.
    assert (await client.get(f"{PATHS}/{path['id']}", headers=owner.headers)).json()["missions_unlocked"] == []
    listed = (await client.get(PATHS, headers=owner.headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == path["id"]
    assert (await client.get(f"{PATHS}/{path['id']}", headers=actors.other_member.headers)).status_code == 404
    met = await client.post(PATHS, json=target, headers=owner.headers)
    assert met.status_code == 409
