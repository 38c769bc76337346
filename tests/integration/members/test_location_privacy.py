"""A member's location is never recoverable beyond the precision they chose to publish.

The attack the issue found: anonymous searches with `near_lat/near_lon/within_km` from three
vantage points placed a member within 24 m. Here the attacker bisects `within_km` from several
vantage points (the best the API allows) and trilaterates; whatever they recover is the published
cell's centre, and two members in the same cell give the attacker exactly the same answers.
"""

from __future__ import annotations

import math

from litestar.testing import AsyncTestClient

from app.members.location import published_point
from app.missions.matching import distance_km
from tests.integration.conftest import Actor, Actors, admit, register
from tests.integration.members.factories import profile_body, publish_profile
from tests.integration.missions.helpers import open_mission

# Two points in Lyon's 4th arrondissement, 600 m apart, in the same commune-sized cell (~1 km from its centre).
HOME_A = (45.7745, 4.8321)
HOME_B = (45.7781, 4.8262)
VANTAGE_POINTS = [(45.45, 4.60), (46.10, 4.75), (45.80, 5.30)]


async def _published(client: AsyncTestClient, admin: Actor, name: str, point: tuple[float, float], **extra: object):
    member = await register(client, name=name)
    await admit(client, admin, member)
    body = profile_body(display_name=name, latitude=point[0], longitude=point[1], **extra)  # type: ignore[arg-type]
    return member, await publish_profile(client, member, body)


async def _bisect(client: AsyncTestClient, account_id: str, lat: float, lon: float) -> float:
    """The smallest `within_km` that still lists the member, to 50 m: the attacker's distance reading."""
    low, high = 0.01, 100.0
    while high - low > 0.05:
        middle = (low + high) / 2
        page = await client.get(
            "/api/v1/profiles", params={"near_lat": lat, "near_lon": lon, "within_km": middle, "limit": 100}
        )
        assert page.status_code == 200, page.text
        if any(item["account_id"] == account_id for item in page.json()["items"]):
            high = middle
        else:
            low = middle
    return high


def _trilaterate(readings: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Least squares on a local flat projection: good to metres at these distances."""
    best, best_error = (0.0, 0.0), math.inf
    lat0, lon0 = readings[0][0], readings[0][1]
    step = 0.01
    centre = (lat0, lon0)
    for _ in range(8):  # coarse-to-fine grid search around the best point so far
        candidates = [(centre[0] + i * step, centre[1] + j * step) for i in range(-30, 31) for j in range(-30, 31)]
        for lat, lon in candidates:
            error = sum((distance_km(lat, lon, vlat, vlon) - km) ** 2 for vlat, vlon, km in readings)
            if error < best_error:
                best, best_error = (lat, lon), error
        centre, step = best, step / 5
    return best


async def test_trilateration_recovers_nothing_finer_than_the_published_cell(
    client: AsyncTestClient, actors: Actors
) -> None:
    member_a, profile_a = await _published(client, actors.admin, "Alix Lyon", HOME_A)
    member_b, _ = await _published(client, actors.admin, "Bao Lyon", HOME_B)
    published = published_point(*HOME_A, "commune")
    assert published == published_point(*HOME_B, "commune"), "the two homes share a cell"
    # The member and administrators see the published point, not the typed one: it is all there is.
    assert (profile_a["contact"]["latitude"], profile_a["contact"]["longitude"]) == published
    assert profile_a["location_precision"] == "commune"

    readings_a, readings_b = [], []
    for lat, lon in VANTAGE_POINTS:
        readings_a.append((lat, lon, await _bisect(client, member_a.account_id, lat, lon)))
        readings_b.append((lat, lon, await _bisect(client, member_b.account_id, lat, lon)))
        page = await client.get("/api/v1/profiles", params={"near_lat": lat, "near_lon": lon, "within_km": 100})
        bands = {item["account_id"]: item["distance_band"] for item in page.json()["items"]}
        assert bands[member_a.account_id] == bands[member_b.account_id] == "25-50 km"
        assert "distance_km" not in page.json()["items"][0]
    # Two different homes, the same answers to every query: the attacker cannot tell them apart.
    assert [km for *_, km in readings_a] == [km for *_, km in readings_b]
    recovered = _trilaterate(readings_a)
    assert distance_km(*recovered, *published) < 0.2, "what leaks is the published cell's centre..."
    for home in (HOME_A, HOME_B):
        assert distance_km(*recovered, *home) > 0.25, "...never the home itself"


async def test_departement_precision_and_matching_answer_in_bands(client: AsyncTestClient, actors: Actors) -> None:
    member, profile = await _published(
        client, actors.admin, "Dana Rural", (45.0421, 3.0883), location_precision="departement", travel_km=20
    )
    centre = published_point(45.0421, 3.0883, "departement")
    assert (profile["contact"]["latitude"], profile["contact"]["longitude"]) == centre
    assert distance_km(*centre, 45.0421, 3.0883) > 5, "a département-sized cell moves the point a long way"
    hidden, hidden_profile = await _published(client, actors.admin, "Eli Nowhere", HOME_A, location_precision="none")
    assert hidden_profile["contact"]["latitude"] is None
    near = await client.get("/api/v1/profiles", params={"near_lat": 45.04, "near_lon": 3.09, "within_km": 500})
    ids = [item["account_id"] for item in near.json()["items"]]
    assert member.account_id in ids and hidden.account_id not in ids

    mission = await open_mission(client, actors.client, latitude=45.04, longitude=3.09, work_mode="on_site")
    matches = await client.get(f"/api/v1/missions/{mission['id']}/matches", headers=actors.client.headers)
    assert matches.status_code == 200, matches.text
    scores = {c["account_id"]: c["score"] for c in matches.json()["items"][0]["candidates"]}
    assert set(scores[member.account_id]) >= {"distance_band"} and "distance_km" not in scores[member.account_id]
    assert scores[member.account_id]["distance_band"] == "25-50 km"  # from the cell's centre, not the farm
    assert "25-50 km away, travels 20 km" in scores[member.account_id]["notes"]
