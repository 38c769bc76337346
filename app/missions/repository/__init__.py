"""All SQL of the missions feature: missions, seats, the lifecycle log, applications, engagements,
questions, reviews, mission search and the candidate queries behind matching.

`MissionRepository` is composed of one mixin per part, over the same session."""

from __future__ import annotations

from app.missions.repository.base import CANDIDATE_POOL, LIVE_APPLICATION
from app.missions.repository.catalogue import MissionFilters, MissionQueries, mission_search_sql
from app.missions.repository.matching import (
    MatchingContext,
    MatchingMission,
    MatchingQueries,
    MatchingSeat,
    candidates_with_details_sql,
    scoring_details,
)
from app.missions.repository.reviews import ReviewQueries
from app.missions.repository.staffing import StaffingQueries


class MissionRepository(MissionQueries, StaffingQueries, ReviewQueries, MatchingQueries):
    pass


__all__ = [
    "CANDIDATE_POOL",
    "LIVE_APPLICATION",
    "MatchingContext",
    "MatchingMission",
    "MatchingSeat",
    "MissionFilters",
    "MissionRepository",
    "candidates_with_details_sql",
    "mission_search_sql",
    "scoring_details",
]
