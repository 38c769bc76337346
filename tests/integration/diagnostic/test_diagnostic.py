"""The needs diagnostic through the API: an anonymous visitor takes it, signs up, claims the result,
edits the draft and posts it as a mission; signed-in clients keep theirs at once."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from tests.integration.conftest import Actors, register
from tests.integration.platform.conftest import assert_problem, connect

BASE = "/api/v1/diagnostic"
ANSWERS = [
    {"question": "organisation", "answers": ["small_business"]},
    {"question": "existing", "answers": ["social_only"]},
    {"question": "goals", "answers": ["online_shop", "visual_identity"]},
    {"question": "budget", "answers": ["from_5k_to_15k"]},
    {"question": "deadline", "answers": ["one_month"]},
    {"question": "place", "answers": ["remote"]},
]


async def test_an_anonymous_visitor_keeps_the_result_by_signing_up_and_posts_the_mission(
    client: AsyncTestClient, actors: Actors
) -> None:
    questionnaire = (await client.get(BASE)).json()
    assert [q["id"] for q in questionnaire["questions"]][:3] == ["organisation", "existing", "goals"]

    taken = await client.post(f"{BASE}/results", json={"answers": ANSWERS})
    assert taken.status_code == 201, taken.text
    result = taken.json()
    assert result["claimed"] is False and len(result["claim_token"]) >= 40
    draft = result["draft"]
    assert draft["title"]["value"] == "Projet : boutique en ligne, identité visuelle"
    seats = {seat["title"]: seat for seat in draft["seats"]}
    assert set(seats) == {"Développeur·se e-commerce", "Graphiste", "Designer UX/UI"}
    assert {s["slug"] for s in seats["Graphiste"]["skills"]} == {"visual-identity", "logo-design", "graphic-design"}
    ux_sources = {(s["question"], s["answer"]) for s in seats["Designer UX/UI"]["sources"]}
    assert ux_sources == {("goals", "online_shop"), ("existing", "social_only")}
    assert (draft["budget"]["min_minor"], draft["budget"]["max_minor"]) == (500_000, 1_500_000)
    assert draft["timeline"]["weeks"] == 4 and draft["work_mode"]["value"] == "remote"
    assert draft["mission"]["budget_amount_minor"] == 1_000_000 and len(draft["mission"]["seats"]) == 3

    wrong = await client.post(f"{BASE}/results", json={"answers": [{"question": "budget", "answers": ["a", "b"]}]})
    assert_problem(wrong)
    assert wrong.status_code == 400

    newcomer = await register(client, role="client", name="Épicerie Vrac")
    unseen = await client.get(f"{BASE}/results/{result['id']}", headers=newcomer.headers)
    assert unseen.status_code == 404
    claimed = await client.post(
        f"{BASE}/results/claim", json={"token": result["claim_token"]}, headers=newcomer.headers
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed"] is True and claimed.json()["claim_token"] is None
    reused = await client.post(
        f"{BASE}/results/claim", json={"token": result["claim_token"]}, headers=actors.client.headers
    )
    assert reused.status_code == 401 and reused.json()["type"] == "urn:coop:problem:invalid-token"
    mine = (await client.get(f"{BASE}/results/{result['id']}", headers=newcomer.headers)).json()
    assert mine["draft"] == draft

    edited = {**draft["mission"], "title": "Boutique en ligne et logo pour l'Épicerie Vrac"}
    edited["seats"] = edited["seats"][:2]
    posted = await client.post(f"{BASE}/results/{result['id']}/mission", json=edited, headers=newcomer.headers)
    assert posted.status_code == 201, posted.text
    mission_id = posted.json()["mission_id"]
    assert posted.json()["mission_status"] == "draft"
    mission = (await client.get(f"/api/v1/missions/{mission_id}", headers=newcomer.headers)).json()
    assert mission["title"] == edited["title"] and len(mission["seats"]) == 2
    twice = await client.post(f"{BASE}/results/{result['id']}/mission", json=edited, headers=newcomer.headers)
    assert twice.status_code == 409
    assert (await client.get(f"{BASE}/results/{result['id']}", headers=newcomer.headers)).json()["mission_id"] == (
        mission_id
    )


async def test_a_signed_in_client_owns_the_result_at_once(client: AsyncTestClient, actors: Actors) -> None:
    taken = (await client.post(f"{BASE}/results", json={"answers": ANSWERS[:2]}, headers=actors.client.headers)).json()
    assert taken["claimed"] is True and taken["claim_token"] is None
    assert (await client.get(f"{BASE}/results/{taken['id']}", headers=actors.client.headers)).status_code == 200
    assert (await client.get(f"{BASE}/results/{taken['id']}", headers=actors.owner.headers)).status_code == 404


async def test_unclaimed_results_go_once_their_token_expired(
    client: AsyncTestClient, actors: Actors, database_url: URL
) -> None:
    old = (await client.post(f"{BASE}/results", json={"answers": ANSWERS})).json()
    kept = (await client.post(f"{BASE}/results", json={"answers": ANSWERS}, headers=actors.client.headers)).json()
    db = await connect(database_url)
    try:
        await db.execute(
            "update diagnostic_result set claim_expires_at = now() - interval '1 day' where id = $1",
            uuid.UUID(old["id"]),
        )
        await client.post(f"{BASE}/results", json={"answers": ANSWERS})
        ids = {str(row["id"]) for row in await db.fetch("select id from diagnostic_result")}
    finally:
        await db.close()
    assert old["id"] not in ids and kept["id"] in ids and len(ids) == 2
    expired = await client.post(
        f"{BASE}/results/claim", json={"token": old["claim_token"]}, headers=actors.client.headers
    )
    assert expired.status_code == 401
