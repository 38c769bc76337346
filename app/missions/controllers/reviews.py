"""HTTP surface of the reviews a member or an organisation received."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.accounts.guards import signed_in
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.missions.controllers.responses import review_out
from app.missions.schemas import (
    ReviewOut,
)
from app.missions.service import MissionService
from app.models import Account


class ProfileReviewsController(Controller):
    path = "/api/v1/profiles"
    tags = ["profiles"]

    @get(
        "/{account_id:uuid}/reviews",
        summary="Published reviews about a member, with the mission's title (where the profile is visible)",
        responses=problems(400, 401, 404),
    )
    async def profile_reviews(
        self,
        account_id: FromPath[uuid.UUID],
        missions: NamedDependency[MissionService],
        viewer: NamedDependency[Account | None],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ReviewOut]:
        rows, total = await missions.profile_reviews(viewer, account_id, limit, offset)
        return Page(items=[review_out(row, title) for row, title in rows], total=total, limit=limit, offset=offset)


class OrganisationReviewsController(Controller):
    path = "/api/v1/organisations"
    tags = ["missions"]

    @get(
        "/{organisation_id:uuid}/reviews",
        guards=[signed_in],
        summary="Published reviews about a client organisation on its missions (admitted members, its people, admins)",
        responses=problems(400, 401, 404),
    )
    async def organisation_reviews(
        self,
        organisation_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        missions: NamedDependency[MissionService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ReviewOut]:
        rows, total = await missions.organisation_reviews(current_account, organisation_id, limit, offset)
        return Page(items=[review_out(row, title) for row, title in rows], total=total, limit=limit, offset=offset)
