"""Missions through the API: posting, the guarded lifecycle, applications, staffing, questions."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors, admit, register
from tests.integration.members.factories import skill_id
from tests.integration.missions.helpers import apply, create_mission, mission_body, move, open_mission


async def test_a_client_posts_a_draft_that_only_its_owner_sees_until_open(
    client: AsyncTestClient, actors: Actors
) -> None:
    django = await skill_id(client, "django")
    mission = await create_mission(
        client, actors.client, seats=[{"title": "Back-end", "skills": [{"skill_id": django, "min_level": 4}]}]
    )
    assert mission["status"] == "draft" and mission["posted_by"] == "client"
    assert mission["seats"][0]["skills"][0]["slug"] == "django"
    url = f"/api/v1/missions/{mission['id']}"
    seen = {a.name: (await client.get(url, headers=a.headers)).status_code for a in actors.all()}
    assert seen == {"owner": 404, "other_member": 404, "client": 200, "admin": 200, "anonymous": 404}
    listed = (await client.get("/api/v1/missions", params={"q": "refonte"})).json()
    assert listed["total"] == 0

    await move(client, actors.client, mission["id"], "open")
    seen = {a.name: (await client.get(url, headers=a.headers)).status_code for a in actors.all()}
    assert set(seen.values()) == {200}
    assert (await client.get(url)).json()["engagements"] is None, "who is engaged is for participants"
    listed = (await client.get("/api/v1/missions", params={"q": "refonte"})).json()
    assert [item["id"] for item in listed["items"]] == [mission["id"]]


async def test_illegal_transitions_are_409_and_every_move_is_logged(client: AsyncTestClient, actors: Actors) -> None:
    empty = await create_mission(client, actors.client, seats=[])
    refused = await client.post(
        f"/api/v1/missions/{empty['id']}/transitions", json={"to": "open"}, headers=actors.client.headers
    )
    assert refused.status_code == 409 and "seat" in refused.json()["detail"]

    mission = await open_mission(client, actors.client)
    for to in ("delivered", "closed", "draft", "staffed"):
        response = await client.post(
            f"/api/v1/missions/{mission['id']}/transitions", json={"to": to}, headers=actors.client.headers
        )
        assert response.status_code == 409, to
        assert response.json()["type"] == "urn:coop:problem:conflict"
    by_member = await client.post(
        f"/api/v1/missions/{mission['id']}/transitions", json={"to": "cancelled"}, headers=actors.owner.headers
    )
    assert by_member.status_code == 403
    await move(client, actors.admin, mission["id"], "cancelled")
    log = (await client.get(f"/api/v1/missions/{mission['id']}/transitions", headers=actors.client.headers)).json()
    assert [(e["from_status"], e["to_status"]) for e in log] == [
        (None, "draft"),
        ("draft", "open"),
        ("open", "cancelled"),
    ]
    assert log[-1]["actor_id"] == actors.admin.account_id
    assert (await client.get(f"/api/v1/missions/{mission['id']}")).status_code == 404, "cancelled: no longer listed"


async def test_a_team_is_staffed_seat_by_seat_and_the_mission_becomes_staffed(
    client: AsyncTestClient, actors: Actors
) -> None:
    mission = await open_mission(
        client,
        actors.client,
        seats=[{"title": "Back-end", "skills": []}, {"title": "Designer", "skills": [], "days": 5}],
    )
    third = await register(client, name="Third Member")
    await admit(client, actors.admin, third)
    first = await apply(client, actors.owner, mission, seat=0)
    rival = await apply(client, third, mission, seat=0)
    twice = await client.post(
        f"/api/v1/missions/{mission['id']}/applications",
        json={"seat_id": mission["seats"][0]["id"], "message": "encore", "proposed_day_rate_minor": 1},
        headers=actors.owner.headers,
    )
    assert twice.status_code == 409
    designer = await apply(client, actors.other_member, mission, seat=1)

    # Members see their own applications only; the owner sees all.
    mine = (await client.get(f"/api/v1/missions/{mission['id']}/applications", headers=third.headers)).json()["items"]
    assert [a["id"] for a in mine] == [rival["id"]]
    every = (await client.get(f"/api/v1/missions/{mission['id']}/applications", headers=actors.client.headers)).json()[
        "items"
    ]
    assert len(every) == 3

    base = f"/api/v1/missions/{mission['id']}/applications"
    assert (await client.post(f"{base}/{first['id']}/accept", headers=actors.owner.headers)).status_code == 403
    assert (await client.post(f"{base}/{first['id']}/shortlist", headers=actors.client.headers)).json()[
        "status"
    ] == "shortlisted"
    accepted = await client.post(f"{base}/{first['id']}/accept", headers=actors.client.headers)
    assert accepted.json()["status"] == "accepted"
    after = (await client.get(base, headers=actors.client.headers)).json()["items"]
    assert {a["id"]: a["status"] for a in after}[rival["id"]] == "declined", "the seat's other applicants"
    assert (await client.post(f"{base}/{designer['id']}/withdraw", headers=actors.owner.headers)).status_code == 404
    assert (await client.get(f"/api/v1/missions/{mission['id']}")).json()["status"] == "open"

    await client.post(f"{base}/{designer['id']}/accept", headers=actors.client.headers)
    staffed = (await client.get(f"/api/v1/missions/{mission['id']}", headers=actors.client.headers)).json()
    assert staffed["status"] == "staffed"
    assert all(seat["filled"] for seat in staffed["seats"])
    engagements = {e["member_id"]: e for e in staffed["engagements"]}
    assert engagements[actors.owner.account_id]["days"] == 20  # the mission's days
    assert engagements[actors.other_member.account_id]["days"] == 5  # the seat's own
    assert engagements[actors.owner.account_id]["day_rate_minor"] == 50000
    late = await client.post(
        base,
        json={"seat_id": mission["seats"][0]["id"], "message": "trop tard", "proposed_day_rate_minor": 1},
        headers=third.headers,
    )
    assert late.status_code == 409


async def test_withdrawing_and_declining(client: AsyncTestClient, actors: Actors) -> None:
    mission = await open_mission(client, actors.client)
    base = f"/api/v1/missions/{mission['id']}/applications"
    application = await apply(client, actors.owner, mission)
    withdrawn = await client.post(f"{base}/{application['id']}/withdraw", headers=actors.owner.headers)
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await client.post(f"{base}/{application['id']}/accept", headers=actors.client.headers)).status_code == 409
    again = await apply(client, actors.owner, mission)
    declined = await client.post(f"{base}/{again['id']}/decline", headers=actors.client.headers)
    assert declined.json()["status"] == "declined"


async def test_a_member_brings_a_mission_as_referrer_and_cannot_apply_to_it(
    client: AsyncTestClient, actors: Actors
) -> None:
    mission = await open_mission(client, actors.owner, client_name="Mairie de Saint-Flour", visibility="members")
    assert mission["posted_by"] == "member" and mission["referrer_id"] == actors.owner.account_id
    response = await client.post(
        f"/api/v1/missions/{mission['id']}/applications",
        json={"seat_id": mission["seats"][0]["id"], "message": "moi", "proposed_day_rate_minor": 1},
        headers=actors.owner.headers,
    )
    assert response.status_code == 409
    # Members-only: invisible to clients and anonymous visitors, even in counts.
    for actor in (actors.client, actors.anonymous):
        assert (await client.get(f"/api/v1/missions/{mission['id']}", headers=actor.headers)).status_code == 404
        listed = (await client.get("/api/v1/missions", params={"q": "refonte"}, headers=actor.headers)).json()
        assert listed["total"] == 0 and listed["items"] == []
    listed = (await client.get("/api/v1/missions", params={"q": "refonte"}, headers=actors.other_member.headers)).json()
    assert listed["total"] == 1


async def test_questions_are_asked_by_members_and_answered_by_the_owner(
    client: AsyncTestClient, actors: Actors
) -> None:
    mission = await open_mission(client, actors.client)
    url = f"/api/v1/missions/{mission['id']}/questions"
    asked = await client.post(url, json={"body": "Le télétravail est-il possible ?"}, headers=actors.owner.headers)
    assert asked.status_code == 201
    assert (await client.post(url, json={"body": "?"}, headers=actors.client.headers)).status_code == 403
    answer_url = f"{url}/{asked.json()['id']}/answer"
    assert (await client.post(answer_url, json={"answer": "non"}, headers=actors.owner.headers)).status_code == 403
    answered = await client.post(
        answer_url, json={"answer": "Oui, deux jours par semaine."}, headers=actors.client.headers
    )
    assert answered.json()["answer"] == "Oui, deux jours par semaine."
    thread = (await client.get(url)).json()["items"]
    assert [(q["body"], q["answer"]) for q in thread] == [
        ("Le télétravail est-il possible ?", "Oui, deux jours par semaine.")
    ]


async def test_mission_rules_refuse_inconsistent_values(client: AsyncTestClient, actors: Actors) -> None:
    for overrides in (
        {"ends_on": "2030-01-01"},
        {"budget_kind": "day_rate", "budget_days": None},
        {"latitude": 45.0, "longitude": None},
        {"seats": [{"title": "x", "skills": [{"skill_id": "00000000-0000-0000-0000-000000000001"}]}]},
    ):
        response = await client.post("/api/v1/missions", json=mission_body(**overrides), headers=actors.client.headers)
        assert response.status_code == 400, overrides
    draft = await create_mission(client, actors.client)
    rewritten = await client.put(
        f"/api/v1/missions/{draft['id']}", json=mission_body(title="Nouveau titre"), headers=actors.client.headers
    )
    assert rewritten.json()["title"] == "Nouveau titre"
    await move(client, actors.client, draft["id"], "open")
    again = await client.put(f"/api/v1/missions/{draft['id']}", json=mission_body(), headers=actors.client.headers)
    assert again.status_code == 409
    mine = (await client.get("/api/v1/me/missions", headers=actors.client.headers)).json()
    assert mine["total"] == 1 and mine["items"][0]["status"] == "open"
