"""Two-sided reviews: participants only, once each, published together or 14 days after delivery;
skills seen at work become attested skills on the member's profile, linked to the mission."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from app.db.url import asyncpg_dsn
from tests.integration.conftest import Actors
from tests.integration.members.factories import profile_body, publish_profile, skill_id
from tests.integration.missions.helpers import open_mission, staffed_and_delivered


async def test_reviews_wait_for_both_sides_then_attest_skills(client: AsyncTestClient, actors: Actors) -> None:
    python = await skill_id(client, "python")
    accessibility = await skill_id(client, "web-accessibility")
    await publish_profile(client, actors.owner, profile_body([(python, 3)]))
    mission = await staffed_and_delivered(client, actors.client, actors.owner)
    url = f"/api/v1/missions/{mission['id']}/reviews"

    client_review = await client.post(
        url,
        json={
            "subject_id": actors.owner.account_id,
            "rating": 5,
            "text": "Travail soigné.",
            "skills_seen": [python, accessibility],
        },
        headers=actors.client.headers,
    )
    assert client_review.status_code == 201, client_review.text
    assert client_review.json()["published"] is False
    # Not yet published: the member does not see it, nor does the public profile.
    assert (await client.get(url, headers=actors.owner.headers)).json()["items"] == []
    assert (await client.get(f"/api/v1/profiles/{actors.owner.account_id}/reviews")).json()["total"] == 0
    assert [r["published"] for r in (await client.get(url, headers=actors.client.headers)).json()["items"]] == [False]

    twice = await client.post(
        url, json={"subject_id": actors.owner.account_id, "rating": 1, "text": "x"}, headers=actors.client.headers
    )
    assert twice.status_code == 409
    outsider = await client.post(
        url, json={"subject_id": actors.owner.account_id, "rating": 1, "text": "x"}, headers=actors.other_member.headers
    )
    assert outsider.status_code == 403, "a delivered public mission is still listed; only participants review"
    self_review = await client.post(
        url, json={"subject_id": actors.owner.account_id, "rating": 5, "text": "x"}, headers=actors.owner.headers
    )
    assert self_review.status_code == 400

    member_review = await client.post(
        url,
        json={"subject_id": actors.client.account_id, "rating": 4, "text": "Client clair et réactif."},
        headers=actors.owner.headers,
    )
    assert member_review.status_code == 201
    both = (await client.get(url, headers=actors.owner.headers)).json()["items"]
    assert sorted(r["rating"] for r in both) == [4, 5] and all(r["published"] for r in both)

    on_profile = (await client.get(f"/api/v1/profiles/{actors.owner.account_id}/reviews")).json()
    assert on_profile["total"] == 1
    assert on_profile["items"][0]["mission_title"] == mission["title"]
    profile = (await client.get(f"/api/v1/profiles/{actors.owner.account_id}")).json()
    skills = {s["slug"]: s for s in profile["skills"]}
    assert skills["python"]["provenance"] == "attested" and skills["python"]["level"] == 3
    assert skills["python"]["attestations"][0]["mission_id"] == mission["id"]
    assert skills["web-accessibility"]["provenance"] == "attested", "seen at work, never declared"
    assert profile["rating"] == {"average": 5.0, "count": 1}


async def test_a_lone_review_is_published_fourteen_days_after_delivery(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    await publish_profile(client, actors.owner, profile_body())
    mission = await staffed_and_delivered(client, actors.client, actors.owner)
    url = f"/api/v1/missions/{mission['id']}/reviews"
    await client.post(
        url, json={"subject_id": actors.owner.account_id, "rating": 4, "text": "Bien."}, headers=actors.client.headers
    )
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "update mission set delivered_at = now() - interval '13 days' where id = $1", mission["id"]
        )
        assert (await client.get(url, headers=actors.owner.headers)).json()["items"] == []
        await connection.execute(
            "update mission set delivered_at = now() - interval '14 days 1 minute' where id = $1", mission["id"]
        )
    finally:
        await connection.close()
    published = (await client.get(url, headers=actors.owner.headers)).json()["items"]
    assert [(r["rating"], r["published"]) for r in published] == [(4, True)]
    assert (await client.get(f"/api/v1/profiles/{actors.owner.account_id}/reviews")).json()["total"] == 1


async def test_no_review_before_delivery(client: AsyncTestClient, actors: Actors) -> None:
    mission = await open_mission(client, actors.client)
    early = await client.post(
        f"/api/v1/missions/{mission['id']}/reviews",
        json={"subject_id": actors.owner.account_id, "rating": 5, "text": "x"},
        headers=actors.client.headers,
    )
    assert early.status_code == 409
