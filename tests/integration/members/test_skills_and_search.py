"""The skills référentiel (aliases, proposals, merges) and profile search (FR/EN, accents, typos, leaks)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor, Actors, admit, register
from tests.integration.members.factories import profile_body, publish_profile, skill_id


async def test_aliases_accents_and_case_find_the_same_skill(client: AsyncTestClient) -> None:
    for q in ("postgres", "PostgreSQL", "psql"):
        items = (await client.get("/api/v1/skills", params={"q": q})).json()["items"]
        assert "postgresql" in [item["slug"] for item in items], q
    items = (await client.get("/api/v1/skills", params={"q": "écoconception"})).json()["items"]
    assert [item["slug"] for item in items] == ["eco-design"]
    assert (await client.get("/api/v1/skills", params={"limit": 1})).json()["total"] > 300


async def test_members_propose_and_admins_accept_or_merge(client: AsyncTestClient, actors: Actors) -> None:
    taken = await client.post("/api/v1/skills", json={"name": "Postgres"}, headers=actors.owner.headers)
    assert taken.status_code == 409
    proposed = await client.post(
        "/api/v1/skills", json={"name": "Pétanque analytics", "aliases": ["boules data"]}, headers=actors.owner.headers
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "proposed"
    proposal = proposed.json()["id"]
    # A proposed skill can be used at once; merging moves its uses to the target.
    await publish_profile(client, actors.owner, profile_body([(proposal, 4)]))
    target = await skill_id(client, "data-science")
    merged = await client.post(
        f"/api/v1/skills/{proposal}/merge", json={"into_skill_id": target}, headers=actors.admin.headers
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged"
    profile = (await client.get(f"/api/v1/profiles/{actors.owner.account_id}")).json()
    assert [(s["slug"], s["level"]) for s in profile["skills"]] == [("data-science", 4)]
    target_skill = (await client.get(f"/api/v1/skills/{target}")).json()
    assert "Pétanque analytics" in target_skill["aliases"]
    found = (await client.get("/api/v1/skills", params={"q": "petanque"})).json()["items"]
    assert [item["slug"] for item in found] == ["data-science"]
    again = await client.post(
        f"/api/v1/skills/{proposal}/merge", json={"into_skill_id": target}, headers=actors.admin.headers
    )
    assert again.status_code == 409

    second = (
        await client.post("/api/v1/skills", json={"name": "Permaculture numérique"}, headers=actors.owner.headers)
    ).json()
    accepted = await client.post(f"/api/v1/skills/{second['id']}/accept", headers=actors.admin.headers)
    assert accepted.json()["status"] == "accepted"


async def _member_with_profile(client: AsyncTestClient, admin: Actor, **overrides: object) -> Actor:
    member = await register(client, name=str(overrides.get("display_name", "Someone")))
    await admit(client, admin, member)
    await publish_profile(client, member, profile_body(**overrides))  # type: ignore[arg-type]
    return member


async def _ids(client: AsyncTestClient, actor: Actor, **params: object) -> list[str]:
    response = await client.get("/api/v1/profiles", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return [item["display_name"] for item in response.json()["items"]]


async def test_search_forgives_accents_typos_and_speaks_french_and_english(
    client: AsyncTestClient, actors: Actors
) -> None:
    python = await skill_id(client, "python")
    await _member_with_profile(
        client,
        actors.admin,
        display_name="Léa Dubois",
        headline="Développeuse back-end à Besançon",
        bio="Je développe des applications web pour les collectivités.",
        skills=[{"skill_id": python, "level": 4}],
        city="Besançon",
        region="Bourgogne-Franche-Comté",
    )
    await _member_with_profile(
        client,
        actors.admin,
        display_name="Hugo Lefèvre",
        headline="Graphic designer and illustrator",
        bio="I design visual identities for small organisations.",
        city="Rennes",
        region="Bretagne",
    )
    anonymous = actors.anonymous
    assert await _ids(client, anonymous, q="developpeuse") == ["Léa Dubois"]  # accents folded
    assert await _ids(client, anonymous, q="développer collectivité") == ["Léa Dubois"]  # French stems
    assert await _ids(client, anonymous, q="besancon") == ["Léa Dubois"]
    assert await _ids(client, anonymous, q="designing identity") == ["Hugo Lefèvre"]  # English stems
    assert await _ids(client, anonymous, q="ilustrator") == ["Hugo Lefèvre"]  # a typo
    assert await _ids(client, anonymous, q="devloppeuse") == ["Léa Dubois"]
    assert await _ids(client, anonymous, q="py") == ["Léa Dubois"]  # an alias of Python
    assert await _ids(client, anonymous, q="pyz") == [], "too short to be corrected"
    assert await _ids(client, anonymous, q="python") == ["Léa Dubois"]  # skills are searchable text
    assert await _ids(client, anonymous, skill="python:4") == ["Léa Dubois"]
    assert await _ids(client, anonymous, skill="python:5") == []
    assert await _ids(client, anonymous, region="bretagne") == ["Hugo Lefèvre"]
    bad = await client.get("/api/v1/profiles", params={"skill": "no-such-skill"})
    assert bad.status_code == 400


async def test_search_filters_sorts_and_pages(client: AsyncTestClient, actors: Actors) -> None:
    await _member_with_profile(
        client,
        actors.admin,
        display_name="Near Lyon",
        day_rate_min_minor=40000,
        day_rate_max_minor=50000,
        work_mode="on_site",
        available_from="2030-01-01",
        latitude=45.76,
        longitude=4.84,
    )
    await _member_with_profile(
        client,
        actors.admin,
        display_name="Far Brest",
        day_rate_min_minor=70000,
        day_rate_max_minor=90000,
        work_mode="remote",
        available_from="2031-01-01",
        latitude=48.39,
        longitude=-4.49,
        city="Brest",
        region="Bretagne",
    )
    a = actors.anonymous
    assert await _ids(client, a, rate_max=45000) == ["Near Lyon"]
    assert await _ids(client, a, rate_min=80000) == ["Far Brest"]
    assert await _ids(client, a, work_mode="remote") == ["Far Brest"]
    assert await _ids(client, a, near_lat=45.75, near_lon=4.85, within_km=30) == ["Near Lyon"]
    assert await _ids(client, a, available_from="2030-06-01", available_to="2030-07-01") == ["Near Lyon"]
    assert await _ids(client, a, sort="rate") == ["Near Lyon", "Far Brest"]
    assert await _ids(client, a, near_lat=48.4, near_lon=-4.5, within_km=2000, sort="distance") == [
        "Far Brest",
        "Near Lyon",
    ]
    page = (await client.get("/api/v1/profiles", params={"limit": 1, "offset": 1, "sort": "rate"})).json()
    assert page["total"] == 2 and [i["display_name"] for i in page["items"]] == ["Far Brest"]
    beyond = (await client.get("/api/v1/profiles", params={"limit": 1, "offset": 5})).json()
    assert beyond["total"] == 2 and beyond["items"] == []
    assert (await client.get("/api/v1/profiles", params={"near_lat": 45})).status_code == 400


async def test_hidden_and_members_only_profiles_never_leak_through_search(
    client: AsyncTestClient, actors: Actors
) -> None:
    await _member_with_profile(client, actors.admin, display_name="Public Zorglub", headline="zorglub public")
    await _member_with_profile(
        client, actors.admin, display_name="Members Zorglub", headline="zorglub members", visibility="members"
    )
    await _member_with_profile(
        client, actors.admin, display_name="Hidden Zorglub", headline="zorglub hidden", visibility="hidden"
    )
    for actor in (actors.anonymous, actors.client):
        response = (await client.get("/api/v1/profiles", params={"q": "zorglub"}, headers=actor.headers)).json()
        assert [i["display_name"] for i in response["items"]] == ["Public Zorglub"], actor.name
        assert response["total"] == 1
        hidden_only = (await client.get("/api/v1/profiles", params={"q": "hidden"}, headers=actor.headers)).json()
        assert hidden_only == {"items": [], "total": 0, "limit": 20, "offset": 0}
        paged = await client.get("/api/v1/profiles", params={"q": "zorglub", "offset": 3}, headers=actor.headers)
        assert paged.json()["total"] == 1
    for actor in (actors.other_member, actors.admin):
        response = (await client.get("/api/v1/profiles", params={"q": "zorglub"}, headers=actor.headers)).json()
        assert sorted(i["display_name"] for i in response["items"]) == ["Members Zorglub", "Public Zorglub"]
        assert response["total"] == 2
