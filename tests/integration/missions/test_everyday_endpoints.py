"""What a first week of real use needs (issue 9, items 2 and 11): my applications and engagements,
teammates' rates kept between them and the client, reviews about a client on its organisation, one
page envelope for every list, and requests refused for what they are (415, unknown query
parameters, a missing body named, seat days within the mission's budget)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors, admit, register
from tests.integration.missions.helpers import apply, create_mission, mission_body, move, open_mission

PAGE_KEYS = {"items", "total", "limit", "offset"}


async def test_a_team_sees_its_mission_but_not_each_others_rates_and_each_finds_its_own_lists(
    client: AsyncTestClient, actors: Actors
) -> None:
    third = await register(client, name="Third Member")
    await admit(client, actors.admin, third)
    mission = await open_mission(
        client, actors.client, seats=[{"title": "Back-end", "days": 12}, {"title": "Design", "days": 8}]
    )
    first = await apply(client, actors.owner, mission, seat=0)
    second = await apply(client, actors.other_member, mission, seat=1)
    await apply(client, third, mission, seat=1)
    for application in (first, second):
        accepted = await client.post(
            f"/api/v1/missions/{mission['id']}/applications/{application['id']}/accept",
            headers=actors.client.headers,
        )
        assert accepted.status_code == 200, accepted.text

    url = f"/api/v1/missions/{mission['id']}"

    def rates(body: dict[str, Any]) -> dict[str, int | None]:
        return {e["member_id"]: e["day_rate_minor"] for e in body["engagements"]}

    owner_view = rates((await client.get(url, headers=actors.owner.headers)).json())
    assert owner_view == {actors.owner.account_id: 50000, actors.other_member.account_id: None}
    other_view = rates((await client.get(url, headers=actors.other_member.headers)).json())
    assert other_view == {actors.owner.account_id: None, actors.other_member.account_id: 50000}
    for side in (actors.client, actors.admin):
        assert set(rates((await client.get(url, headers=side.headers)).json()).values()) == {50000}

    # Applications: one envelope; the client sees all three, a member their own.
    listed = (await client.get(f"{url}/applications", headers=actors.client.headers, params={"limit": 2})).json()
    assert set(listed) == PAGE_KEYS and listed["total"] == 3 and len(listed["items"]) == 2
    mine = (await client.get("/api/v1/me/applications", headers=third.headers)).json()
    assert mine["total"] == 1 and mine["items"][0]["application"]["status"] == "declined"
    assert mine["items"][0]["mission_title"] == mission["title"]
    accepted_only = await client.get(
        "/api/v1/me/applications", headers=actors.owner.headers, params={"status": "accepted"}
    )
    assert accepted_only.json()["total"] == 1
    engagements = (await client.get("/api/v1/me/engagements", headers=actors.owner.headers)).json()
    assert set(engagements) == PAGE_KEYS and engagements["total"] == 1
    assert engagements["items"][0] | {"id": None} == {
        "id": None,
        "mission_id": mission["id"],
        "mission_title": mission["title"],
        "mission_status": "staffed",
        "seat_id": mission["seats"][0]["id"],
        "day_rate_minor": 50000,
        "currency": "EUR",
        "days": 12,
        "starts_on": mission["starts_on"],
        "ends_on": mission["ends_on"],
    }
    assert (await client.get("/api/v1/me/engagements", headers=third.headers)).json()["total"] == 0

    for path in ("questions", "reviews"):
        page = (await client.get(f"{url}/{path}", headers=actors.owner.headers)).json()
        assert set(page) == PAGE_KEYS, path
    matches = (await client.get(f"{url}/matches", headers=actors.client.headers)).json()
    assert set(matches) == PAGE_KEYS and matches["total"] == 2


async def test_reviews_about_a_client_show_on_its_organisation(client: AsyncTestClient, actors: Actors) -> None:
    from tests.integration.missions.helpers import staffed_and_delivered

    mission = await staffed_and_delivered(client, actors.client, actors.owner)
    reviews = f"/api/v1/missions/{mission['id']}/reviews"
    for author, subject, text in (
        (actors.owner, actors.client, "Client clair et réactif."),
        (actors.client, actors.owner, "Travail soigné."),
    ):
        posted = await client.post(
            reviews, json={"subject_id": subject.account_id, "rating": 4, "text": text}, headers=author.headers
        )
        assert posted.status_code == 201, posted.text
    url = f"/api/v1/organisations/{actors.client.organisation_id}/reviews"
    seen = {a.name: (await client.get(url, headers=a.headers)).status_code for a in actors.all()}
    assert seen == {"owner": 200, "other_member": 200, "client": 200, "admin": 200, "anonymous": 401}
    page = (await client.get(url, headers=actors.other_member.headers)).json()
    assert page["total"] == 1 and page["items"][0]["text"] == "Client clair et réactif."
    applicant = await register(client, name="Not Yet Admitted")
    assert (await client.get(url, headers=applicant.headers)).status_code == 404


async def test_requests_are_refused_for_what_they_are(client: AsyncTestClient, actors: Actors) -> None:
    form = await client.post(
        "/api/v1/missions",
        content="title=x&description=y",
        headers={**actors.client.headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415, form.text
    assert form.json()["type"] == "urn:coop:problem:unsupported-media-type"

    unknown = await client.get("/api/v1/missions", params={"q": "site", "colour": "blue"})
    assert unknown.status_code == 400
    body_unknown = await client.post(
        "/api/v1/missions", json={**mission_body(), "colour": "blue"}, headers=actors.client.headers
    )
    assert unknown.json()["type"] == body_unknown.json()["type"] == "urn:coop:problem:validation-error"
    assert unknown.json()["errors"] == [{"field": "colour", "message": "unknown query parameter", "source": "query"}]
    assert (await client.get("/api/v1/missions", params={"q": "site", "limit": 5})).status_code == 200

    missing = await client.post("/api/v1/missions", headers=actors.client.headers)
    assert missing.status_code == 400
    assert "MissionInput" in missing.json()["detail"]
    assert missing.json()["errors"][0]["field"] == "body"

    too_many_days = await client.post(
        "/api/v1/missions",
        json=mission_body(budget_days=20, seats=[{"title": "A", "days": 15}, {"title": "B", "days": 10}]),
        headers=actors.client.headers,
    )
    assert too_many_days.status_code == 400
    assert too_many_days.json()["errors"][0]["field"] == "seats"
    fits = await create_mission(
        client, actors.client, budget_days=25, seats=[{"title": "A", "days": 15}, {"title": "B", "days": 10}]
    )
    await move(client, actors.client, fits["id"], "open")
