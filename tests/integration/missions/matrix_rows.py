"""Authorization-matrix rows of the missions operations added for issue 9 (my lists, reviews about a client)."""

from __future__ import annotations

from tests.integration.platform.matrix import EVERYONE_SIGNED_IN, Rule, expect

ROWS: list[Rule] = [
    Rule("GET", "/api/v1/me/applications", EVERYONE_SIGNED_IN, why="the caller's own applications only"),
    Rule("GET", "/api/v1/me/engagements", EVERYONE_SIGNED_IN, why="the caller's own engagements only"),
    Rule(
        "GET",
        "/api/v1/organisations/{organisation_id}/reviews",
        expect(200, 200, 200, 200, 401),
        url=lambda a: f"/api/v1/organisations/{a.client.organisation_id}/reviews",
        why="admitted members weigh a client before applying; its own people and admins see them too",
    ),
]
