"""Authorization-matrix rows of the secret-ballot key custody (trustee keys, the bureau, shares, the count)."""

from __future__ import annotations

from tests.integration.assemblies import matrix_setups as setups
from tests.integration.platform.matrix import Rule, expect

_, SOME_PUBLIC_KEY = setups.trustee_key()

ROWS: list[Rule] = [
    Rule(
        "PUT",
        "/api/v1/me/trustee-key",
        expect(204, 204, 403, 204, 401),
        body={"public_key": SOME_PUBLIC_KEY},
        why="members and the chair may serve as scrutineers; a client outside every college may not",
    ),
    Rule(
        "PUT",
        "/api/v1/assemblies/{assembly_id}/bureau",
        expect(403, 403, 403, 200, 401),
        url=lambda a: f"/api/v1/assemblies/{a.context['assembly']}/bureau",
        body=lambda a, actor: {"trustees": [a.owner.account_id], "threshold": 1},
        setup=setups.planned_with_bureau,
        why="the chair names the scrutineers",
    ),
    Rule(
        "GET",
        "/api/v1/proposals/{proposal_id}/key-share",
        expect(200, 404, 404, 404, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/key-share",
        setup=setups.opened_with_bureau,
        why="a scrutineer's own encrypted share; nobody else holds one, not even the chair",
    ),
    Rule(
        "POST",
        "/api/v1/proposals/{proposal_id}/count",
        expect(200, 403, 404, 200, 401),
        url=lambda a: f"/api/v1/proposals/{a.context['proposal']}/count",
        body=lambda a, actor: {"shares": [a.context["share"]]},
        setup=setups.opened_with_bureau,
        why="the chair or a scrutineer brings the shares; a second count returns the stored result",
    ),
]
