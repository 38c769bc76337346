"""Rules of the missions feature: posting, the guarded lifecycle, applications and staffing, questions,
two-sided reviews, mission search and matching.

Nothing here knows about HTTP; nothing here commits. Builds on the members feature (profiles,
visibility, attested skills); never the other way round.

`MissionService` is composed of one mixin per part (`service_*.py`), over the same repository."""

from __future__ import annotations

from app.missions.service_base import TRANSITIONS, MissionSearch, MissionView, SeatMatches, is_admin
from app.missions.service_matching import MatchingRules
from app.missions.service_posting import PostingRules
from app.missions.service_reviews import ReviewRules
from app.missions.service_staffing import StaffingRules


class MissionService(PostingRules, StaffingRules, ReviewRules, MatchingRules):
    pass


__all__ = ["TRANSITIONS", "MissionSearch", "MissionService", "MissionView", "SeatMatches", "is_admin"]
