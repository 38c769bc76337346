"""Who may ask for a mission's matches, which seats they cover, and who they leave out (the team)."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actors
from tests.integration.members.factories import profile_body, publish_profile, skill_id
from tests.integration.missions.helpers import apply, create_mission, open_mission

PROBLEM = "application/problem+json"


def _names(seat: dict) -> list[str]:
    return [candidate["display_name"] for candidate in seat["candidates"]]


async def test_matches_leave_out_the_team_and_follow_the_visibility_rules(
    client: AsyncTestClient, actors: Actors
) -> None:
    python = await skill_id(client, "python")
    for actor, name in ((actors.owner, "Owner dev"), (actors.other_member, "Other dev")):
        await publish_profile(client, actor, profile_body(display_name=name, skill_levels=[(python, 5)]))
    mission = await open_mission(
        client,
        actors.client,
        seats=[
            {"title": "Lead", "skills": [{"skill_id": python, "min_level": 4}]},
            {"title": "Second", "skills": [{"skill_id": python, "min_level": 3}]},
        ],
    )
    url = f"/api/v1/missions/{mission['id']}/matches"
    before = (await client.get(url, headers=actors.client.headers)).json()
    assert before["total"] == 2
    assert [seat["seat_title"] for seat in before["items"]] == ["Lead", "Second"]
    assert sorted(_names(before["items"][1])) == ["Other dev", "Owner dev"]

    # Once engaged on the lead seat, a member is no longer proposed for the other one.
    application = await apply(client, actors.owner, mission, seat=0)
    accepted = await client.post(
        f"/api/v1/missions/{mission['id']}/applications/{application['id']}/accept", headers=actors.client.headers
    )
    assert accepted.status_code == 200, accepted.text
    after = (await client.get(url, headers=actors.client.headers)).json()["items"]
    assert _names(after[1]) == ["Other dev"]
    assert after[0]["seat_id"] == mission["seats"][0]["id"]

    # One seat on request; a seat of no such mission is an invalid input.
    second = mission["seats"][1]["id"]
    one = (await client.get(url, params={"seat_id": second}, headers=actors.client.headers)).json()
    assert [seat["seat_id"] for seat in one["items"]] == [second] and _names(one["items"][0]) == ["Other dev"]
    wrong = await client.get(url, params={"seat_id": str(uuid.uuid4())}, headers=actors.client.headers)
    assert wrong.status_code == 400 and wrong.headers["content-type"].startswith(PROBLEM)

    # The engaged member sees the mission but not its matches; an unknown mission does not exist.
    assert (await client.get(url, headers=actors.owner.headers)).status_code == 403
    missing = await client.get(f"/api/v1/missions/{uuid.uuid4()}/matches", headers=actors.admin.headers)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)

    # A draft is seen by its owner and administrators only: for anyone else it does not exist.
    draft = await create_mission(
        client, actors.client, seats=[{"title": "Dev", "skills": [{"skill_id": python, "min_level": 3}]}]
    )
    draft_url = f"/api/v1/missions/{draft['id']}/matches"
    assert (await client.get(draft_url, headers=actors.client.headers)).status_code == 200
    assert (await client.get(draft_url, headers=actors.admin.headers)).status_code == 200
    hidden = await client.get(draft_url, headers=actors.other_member.headers)
    assert hidden.status_code == 404 and hidden.headers["content-type"].startswith(PROBLEM)

    # A member who brings a mission (its referrer) gets its matches, themselves left out.
    brought = await create_mission(
        client, actors.other_member, seats=[{"title": "Dev", "skills": [{"skill_id": python, "min_level": 3}]}]
    )
    mine = await client.get(f"/api/v1/missions/{brought['id']}/matches", headers=actors.other_member.headers)
    assert mine.status_code == 200, mine.text
    assert _names(mine.json()["items"][0]) == ["Owner dev"]
