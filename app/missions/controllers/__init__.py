"""HTTP surface of the missions feature: /api/v1/missions (lifecycle, applications, questions, reviews,
matches), /api/v1/me/missions, /api/v1/me/matches, /api/v1/profiles/{id}/reviews, /api/v1/matching/policy."""

from __future__ import annotations

from app.missions.controllers.missions import MissionsController, MyMissionsController
from app.missions.controllers.policy import MatchingPolicyController
from app.missions.controllers.reviews import OrganisationReviewsController, ProfileReviewsController

__all__ = [
    "MatchingPolicyController",
    "MissionsController",
    "MyMissionsController",
    "OrganisationReviewsController",
    "ProfileReviewsController",
]
