"""Mission search (FR/EN, typos, filters, leaks) and matching (ranked, explained, territorial fairness)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor, Actors, admit, register
from tests.integration.members.factories import profile_body, publish_profile, skill_id
from tests.integration.missions.helpers import open_mission


async def test_mission_search_speaks_french_and_english_and_forgives_typos(
    client: AsyncTestClient, actors: Actors
) -> None:
    await open_mission(client, actors.client, title="Application mobile pour une épicerie coopérative")
    await open_mission(
        client,
        actors.client,
        title="Accessibility audit of a public website",
        description="WCAG audit and fixes.",
        region="Bretagne",
    )

    async def titles(**params: object) -> list[str]:
        response = await client.get("/api/v1/missions", params=params)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert await titles(q="epicerie") == ["Application mobile pour une épicerie coopérative"]
    assert await titles(q="cooperatives") == ["Application mobile pour une épicerie coopérative"]
    assert await titles(q="audit websites") == ["Accessibility audit of a public website"]
    assert (await titles(q="accesibility"))[0] == "Accessibility audit of a public website"  # best first
    assert await titles(region="bretagne") == ["Accessibility audit of a public website"]
    assert len(await titles(sort="starts")) == 2
    assert await titles(status="closed") == []
    assert (await client.get("/api/v1/missions", params={"status": "draft"})).status_code == 400


async def _member(client: AsyncTestClient, admin: Actor, name: str, **profile: object) -> Actor:
    member = await register(client, name=name)
    await admit(client, admin, member)
    body = profile_body(display_name=name, **profile)  # type: ignore[arg-type]
    body["day_rate_max_minor"] = max(body["day_rate_max_minor"], body["day_rate_min_minor"])
    await publish_profile(client, member, body)
    return member


async def test_matching_ranks_members_per_seat_and_explains_each_score(client: AsyncTestClient, actors: Actors) -> None:
    django = await skill_id(client, "django")
    design = await skill_id(client, "ui-design")
    expert = await _member(
        client,
        actors.admin,
        "Expert Lyon",
        skill_levels=[(django, 5)],
        day_rate_min_minor=50000,
        available_from="2030-01-01",
        latitude=45.76,
        longitude=4.84,
        travel_km=30,
    )
    await _member(
        client,
        actors.admin,
        "Junior Lyon",
        skill_levels=[(django, 2)],
        day_rate_min_minor=30000,
        available_from="2030-01-01",
        latitude=45.76,
        longitude=4.84,
        travel_km=30,
    )
    await _member(
        client,
        actors.admin,
        "Expert Brest, pricey",
        skill_levels=[(django, 5)],
        day_rate_min_minor=90000,
        available_from="2030-01-01",
        latitude=48.39,
        longitude=-4.49,
        travel_km=20,
        work_mode="on_site",
    )
    await _member(client, actors.admin, "Designer", skill_levels=[(design, 4)], visibility="members")
    await _member(client, actors.admin, "Hidden expert", skill_levels=[(django, 5)], visibility="hidden")
    mission = await open_mission(
        client,
        actors.client,
        seats=[
            {"title": "Back-end", "skills": [{"skill_id": django, "min_level": 4}]},
            {"title": "Designer", "skills": [{"skill_id": design, "min_level": 3}]},
        ],
    )
    url = f"/api/v1/missions/{mission['id']}/matches"
    matches = (await client.get(url, headers=actors.client.headers)).json()["items"]
    backend, designer = matches
    names = [c["display_name"] for c in backend["candidates"]]
    assert names[0] == "Expert Lyon"
    assert "Hidden expert" not in names
    top = backend["candidates"][0]["score"]
    assert top["skill_fit"] == 0.85  # declared, not yet attested
    assert top["availability"] == 1.0 and top["rate"] == 1.0 and top["distance"] == 1.0
    pricey = next(c for c in backend["candidates"] if c["display_name"] == "Expert Brest, pricey")["score"]
    assert pricey["rate"] < 0.5 and pricey["distance_band"] == "over 500 km"
    assert any("above the budget" in note for note in pricey["notes"])
    # The client sees public profiles only: the members-only designer is not proposed to a client...
    assert [c["display_name"] for c in designer["candidates"]] == []
    # ...but is to an administrator.
    as_admin = (await client.get(url, headers=actors.admin.headers)).json()["items"]
    assert [c["display_name"] for c in as_admin[1]["candidates"]] == ["Designer"]
    assert (await client.get(url, headers=actors.other_member.headers)).status_code == 403

    # From the member's side: the mission ranks first, with the back-end seat.
    mine = (await client.get("/api/v1/me/matches", headers=expert.headers)).json()["items"]
    assert mine[0]["mission_id"] == mission["id"] and mine[0]["seat_title"] == "Back-end"


async def test_territorial_fairness_favours_members_near_the_mission(client: AsyncTestClient, actors: Actors) -> None:
    python = await skill_id(client, "python")
    await _member(
        client,
        actors.admin,
        "Remote star",
        skill_levels=[(python, 5)],
        work_mode="remote",
        latitude=43.6,
        longitude=1.44,
        day_rate_min_minor=40000,
    )
    await _member(
        client,
        actors.admin,
        "Local good",
        skill_levels=[(python, 4)],
        work_mode="hybrid",
        latitude=45.05,
        longitude=3.08,
        travel_km=40,
        day_rate_min_minor=40000,
        region="Auvergne-Rhône-Alpes",
    )
    mission = await open_mission(
        client,
        actors.client,
        work_mode="remote",
        latitude=45.03,
        longitude=3.09,
        seats=[{"title": "Dev", "skills": [{"skill_id": python, "min_level": 4}]}],
    )
    url = f"/api/v1/missions/{mission['id']}/matches"

    async def ranking() -> list[str]:
        return [
            c["display_name"]
            for c in (await client.get(url, headers=actors.client.headers)).json()["items"][0]["candidates"]
        ]

    assert await ranking() == ["Local good", "Remote star"] or await ranking() == ["Remote star", "Local good"]
    neutral = (await client.get(url, headers=actors.client.headers)).json()["items"][0]["candidates"]
    assert all(c["score"]["local"] is None for c in neutral)
    assert (
        await client.put("/api/v1/matching/policy", json={"territorial_fairness": 100}, headers=actors.owner.headers)
    ).status_code == 403
    policy = await client.put(
        "/api/v1/matching/policy",
        json={"territorial_fairness": 100, "local_radius_km": 30},
        headers=actors.admin.headers,
    )
    assert policy.json()["territorial_fairness"] == 100
    favoured = (await client.get(url, headers=actors.client.headers)).json()["items"][0]["candidates"]
    assert favoured[0]["display_name"] == "Local good"
    assert favoured[0]["score"]["local"] == 1.0 and favoured[1]["score"]["local"] == 0.0
    assert "local to the mission (territorial fairness)" in favoured[0]["score"]["notes"]
