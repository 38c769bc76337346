"""Profiles through the API: creation, publication, visibility, contact details, skills provenance."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors, register
from tests.integration.members.factories import profile_body, publish_profile, skill_id


async def test_a_member_creates_publishes_and_reads_back_their_profile(client: AsyncTestClient, actors: Actors) -> None:
    python = await skill_id(client, "python")
    postgres = await skill_id(client, "postgresql")
    body = profile_body(
        [(python, 4), (postgres, 3)],
        availability=[{"starts_on": "2030-02-01", "ends_on": "2030-03-31", "share_percent": 60}],
    )
    saved = await client.put("/api/v1/me/profile", json=body, headers=actors.owner.headers)
    assert saved.status_code == 200, saved.text
    profile = saved.json()
    assert profile["published"] is False
    assert {s["slug"]: (s["level"], s["provenance"]) for s in profile["skills"]} == {
        "python": (4, "declared"),
        "postgresql": (3, "declared"),
    }
    assert profile["skills"][0]["esco_uri"].startswith("http://data.europa.eu/esco/skill/")
    assert profile["availability"] == [{"starts_on": "2030-02-01", "ends_on": "2030-03-31", "share_percent": 60}]
    assert profile["contact"]["email"] == "camille@example.org"

    # Unpublished: nobody else sees it, not even admitted members; the admin does.
    for actor in (actors.other_member, actors.client, actors.anonymous):
        response = await client.get(f"/api/v1/profiles/{actors.owner.account_id}", headers=actor.headers)
        assert response.status_code == 404, actor.name
    assert (
        await client.get(f"/api/v1/profiles/{actors.owner.account_id}", headers=actors.admin.headers)
    ).status_code == 200

    published = await client.post("/api/v1/me/profile/publish", headers=actors.owner.headers)
    assert published.json()["published"] is True
    seen = await client.get(f"/api/v1/profiles/{actors.owner.account_id}")
    assert seen.status_code == 200
    assert seen.json()["contact"] is None, "contact details are never public"
    assert seen.json()["display_name"] == "Camille Martin"
    seen_by_member = await client.get(
        f"/api/v1/profiles/{actors.owner.account_id}", headers=actors.other_member.headers
    )
    assert seen_by_member.json()["contact"] is None
    seen_by_admin = await client.get(f"/api/v1/profiles/{actors.owner.account_id}", headers=actors.admin.headers)
    assert seen_by_admin.json()["contact"]["phone"] == "+33 6 12 34 56 78"


async def test_visibility_decides_who_sees_a_published_profile(client: AsyncTestClient, actors: Actors) -> None:
    url = f"/api/v1/profiles/{actors.owner.account_id}"
    await publish_profile(client, actors.owner, profile_body(visibility="members"))
    expected = {"anonymous": 404, "client": 404, "other_member": 200, "admin": 200, "owner": 200}
    assert {a.name: (await client.get(url, headers=a.headers)).status_code for a in actors.all()} == expected

    await client.put("/api/v1/me/profile", json=profile_body(visibility="hidden"), headers=actors.owner.headers)
    expected = {"anonymous": 404, "client": 404, "other_member": 404, "admin": 200, "owner": 200}
    assert {a.name: (await client.get(url, headers=a.headers)).status_code for a in actors.all()} == expected

    await client.post("/api/v1/me/profile/unpublish", headers=actors.owner.headers)
    await client.put("/api/v1/me/profile", json=profile_body(visibility="public"), headers=actors.owner.headers)
    assert (await client.get(url)).status_code == 404, "public but unpublished"


async def test_applicants_cannot_keep_a_profile_and_missing_ones_look_missing(
    client: AsyncTestClient, actors: Actors
) -> None:
    applicant = await register(client, name="Not Yet Admitted")
    response = await client.put("/api/v1/me/profile", json=profile_body(), headers=applicant.headers)
    assert response.status_code == 403
    assert (await client.get("/api/v1/me/profile", headers=actors.owner.headers)).status_code == 404
    missing = await client.get(f"/api/v1/profiles/{uuid.uuid4()}", headers=actors.admin.headers)
    assert missing.status_code == 404


async def test_profile_rules_refuse_inconsistent_values(client: AsyncTestClient, actors: Actors) -> None:
    cases = [
        profile_body(day_rate_min_minor=70000, day_rate_max_minor=50000),
        profile_body(latitude=45.0, longitude=None),
        profile_body(availability=[{"starts_on": "2030-03-01", "ends_on": "2030-02-01"}]),
        profile_body(skills=[{"skill_id": str(uuid.uuid4()), "level": 3}]),
        profile_body(skills=[{"skill_id": str(uuid.uuid4()), "level": 6}]),
        profile_body(currency="euro"),
        profile_body(photo_url="javascript:alert(1)"),
    ]
    for body in cases:
        response = await client.put("/api/v1/me/profile", json=body, headers=actors.owner.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["type"] == "urn:coop:problem:validation-error"


async def test_replacing_a_profile_keeps_one_row_per_skill(client: AsyncTestClient, actors: Actors) -> None:
    python = await skill_id(client, "python")
    django = await skill_id(client, "django")
    first = profile_body([(python, 2), (django, 3)])
    await client.put("/api/v1/me/profile", json=first, headers=actors.owner.headers)
    second = profile_body([(python, 5), (python, 3)])
    saved = (await client.put("/api/v1/me/profile", json=second, headers=actors.owner.headers)).json()
    assert [(s["slug"], s["level"]) for s in saved["skills"]] == [("python", 5)]
