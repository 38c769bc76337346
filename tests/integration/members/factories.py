"""Request bodies and small API helpers for marketplace tests (profiles, skills, missions)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.integration.conftest import Actor


async def skill_id(client: AsyncTestClient, slug: str) -> str:
    response = await client.get("/api/v1/skills", params={"q": slug.replace("-", " "), "limit": 100})
    assert response.status_code == 200, response.text
    for item in response.json()["items"]:
        if item["slug"] == slug:
            return item["id"]
    raise AssertionError(f"no skill {slug}")


def profile_body(skill_levels: list[tuple[str, int]] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "Camille Martin",
        "headline": "Développeuse Python et PostgreSQL",
        "bio": "Je conçois des API pour des coopératives et des collectivités.",
        "skills": [{"skill_id": sid, "level": level, "years": 4} for sid, level in (skill_levels or [])],
        "languages": [{"code": "fr", "level": "native"}, {"code": "en", "level": "C1"}],
        "day_rate_min_minor": 45000,
        "day_rate_max_minor": 60000,
        "currency": "EUR",
        "available_from": "2030-01-01",
        "city": "Lyon",
        "postal_code": "69004",
        "region": "Auvergne-Rhône-Alpes",
        "country": "FR",
        "latitude": 45.774,
        "longitude": 4.832,
        "work_mode": "hybrid",
        "travel_km": 50,
        "links": [{"kind": "repository", "url": "https://git.example.org/camille"}],
        "contact_email": "camille@example.org",
        "contact_phone": "+33 6 12 34 56 78",
        "visibility": "public",
    }
    body.update(overrides)
    return body


async def publish_profile(client: AsyncTestClient, member: Actor, body: dict[str, Any]) -> dict[str, Any]:
    saved = await client.put("/api/v1/me/profile", json=body, headers=member.headers)
    assert saved.status_code == 200, saved.text
    published = await client.post("/api/v1/me/profile/publish", headers=member.headers)
    assert published.status_code == 200, published.text
    return published.json()
