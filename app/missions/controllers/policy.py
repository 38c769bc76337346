"""HTTP surface of the cooperative's matching settings (/api/v1/matching/policy): territorial fairness."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from app.accounts.guards import admin_only, signed_in
from app.core.problems import problems
from app.missions.controllers.responses import policy_out
from app.missions.schemas import (
    PolicyInput,
    PolicyOut,
)
from app.missions.service import MissionService


class MatchingPolicyController(Controller):
    path = "/api/v1/matching/policy"
    tags = ["matching"]

    @get(
        guards=[signed_in],
        summary="The cooperative's matching settings (territorial fairness)",
        responses=problems(401),
    )
    async def get_policy(self, missions: NamedDependency[MissionService]) -> PolicyOut:
        return policy_out(await missions.policy())

    @put(
        guards=[admin_only],
        summary="Change the matching settings (administrators): 0 ignores proximity, 100 favours local members most",
        responses=problems(400, 401, 403, 413),
    )
    async def set_policy(self, data: JSONBody[PolicyInput], missions: NamedDependency[MissionService]) -> PolicyOut:
        return policy_out(await missions.set_policy(data.territorial_fairness, data.local_radius_km))
