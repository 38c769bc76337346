"""Authorization-matrix rows of the accounts operations added for issue 9."""

from __future__ import annotations

from tests.integration.platform.matrix import Rule, expect

ROWS: list[Rule] = [
    Rule(
        "POST",
        "/api/v1/organisations/{organisation_id}/verify",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/organisations/{a.client.organisation_id}/verify",
        why="vouching for an organisation is the administrators' act, never the client's own",
    ),
]
