"""Mission search and matching members to a mission's seats (and missions to a member)."""

from __future__ import annotations

import asyncio
import heapq
import uuid
from datetime import UTC, datetime
from typing import Any

from app.core.errors import Forbidden, InvalidInput, NotFound
from app.members.service import listed_visibilities, sees_members_only
from app.missions import matching
from app.missions.repository import (
    MatchingMission,
    MatchingSeat,
    MissionFilters,
    scoring_details,
)
from app.missions.service_base import LISTED_STATUSES, MissionSearch, MissionServiceBase, S, SeatMatches, is_admin
from app.models import (
    Account,
    BudgetKind,
    MarketplacePolicy,
    Mission,
    MissionSeat,
)


class MatchingRules(MissionServiceBase):
    # search

    async def search(self, viewer: Account | None, search: MissionSearch) -> tuple[list[Any], int]:
        statuses = tuple(search.statuses) or (S.OPEN,)
        if any(status not in LISTED_STATUSES for status in statuses):
            raise InvalidInput.field("status", "Drafts and cancelled missions are not listed.")
        skills = []
        for term in search.skills:
            skill = await self.members.repository.skill_by_term(term)
            if skill is None:
                raise InvalidInput.field("skill", f"Unknown skill {term[:60]!r}.")
            skills.append(skill.id)
        members = sees_members_only(viewer)
        filters = MissionFilters(
            visibilities=("public", "members") if members else ("public",),
            verified_organisations_only=not members,
            statuses=statuses,
            tsquery=await self.members.text_query(search.q) if search.q else None,
            skill_ids=tuple(skills),
            region=search.region,
            work_modes=tuple(search.work_modes),
            starts_after=search.starts_after,
            sort=search.sort,
            limit=search.limit,
            offset=search.offset,
        )
        rows, total = await self.repository.search(filters)
        if total is None:
            total = await self.repository.count(filters) if search.offset else 0
        return rows, total

    # matching

    async def policy(self) -> MarketplacePolicy:
        return await self.repository.policy()

    async def set_policy(self, territorial_fairness: int, local_radius_km: int) -> MarketplacePolicy:
        policy = await self.repository.policy()
        policy.territorial_fairness, policy.local_radius_km = territorial_fairness, local_radius_km
        policy.updated_at = datetime.now(UTC)
        return policy

    async def matches_for_mission(
        self, viewer: Account, mission_id: uuid.UUID, seat_id: uuid.UUID | None, limit: int
    ) -> list[SeatMatches]:
        # The mission, its seats and skills, the engagements, the policy and what the visibility rules
        # ask: one statement (`visible`'s rules, read from it), then one or two per seat.
        context = await self.repository.matching_context(mission_id, viewer.id)
        if context is None or not await self._can_view(viewer, context.mission, context):
            raise NotFound()
        mission = context.mission
        if viewer.id not in (mission.owner_id, mission.referrer_id) and not is_admin(viewer):
            raise Forbidden("Matches are for the mission's owner and administrators.")
        if context.policy is not None:
            rules = matching.Policy(*context.policy)
        else:  # the row is missing (a restored database): `policy` puts the default back
            policy = await self.repository.policy()
            rules = matching.Policy(policy.territorial_fairness, policy.local_radius_km)
        seats = [s for s in context.seats if seat_id is None or s.id == seat_id]
        if seat_id is not None and not seats:
            raise InvalidInput.field("seat_id", "This mission has no such seat.")
        excluded = [mission.owner_id, *context.engaged]
        visibilities = listed_visibilities(viewer)

        async def ranked(seat: MatchingSeat) -> SeatMatches:
            required = dict(seat.skills)
            pool = await self.repository.candidate_pool(skills=required, visibilities=visibilities, excluded=excluded)
            scorer = matching.SeatScorer(self._need(mission, seat, required), rules)
            # Rank every candidate by its total alone (nothing built per member), then explain only
            # the `limit` returned: the same totals, the same order (best first, then by account id;
            # UUIDs order as their text does, fixed-width hex, without a string per candidate).
            total = scorer.total
            best = heapq.nsmallest(
                limit, pool, key=lambda row: (-total(row, row.skills, row.availability), row.account_id)
            )
            skills, availability = scoring_details(best)
            candidates = [(row, scorer.explain(self._candidate(row, skills, availability))) for row in best]
            return SeatMatches(seat=seat, candidates=candidates)

        if len(seats) > 1 and self.repository.reads_apart():
            # Each seat's statements on a connection of their own: the server runs one seat's while
            # this process scores the other's (seats are independent: none excludes another's pool).
            return list(await asyncio.gather(*(ranked(seat) for seat in seats)))
        return [await ranked(seat) for seat in seats]

    async def matches_for_member(
        self, member: Account, limit: int, offset: int = 0
    ) -> tuple[list[tuple[Mission, MissionSeat, Any]], int]:
        profile = await self.members.repository.get_profile(member.id)
        if profile is None:
            raise NotFound("Matching needs your profile: PUT /api/v1/me/profile first.")
        policy = await self.repository.policy()
        rules = matching.Policy(policy.territorial_fairness, policy.local_radius_km)
        rows = await self.repository.open_seats_for(member.id, listed_visibilities(member))
        seats = await self.repository.seats_by_ids([row.seat_id for row in rows])
        missions = await self.repository.missions_by_ids(list({row.mission_id for row in rows}))
        seat_skills = await self.repository.seat_skills(list(seats))
        wanted = {row.skill_id for rows_ in seat_skills.values() for row, _ in rows_}
        profiles, skills, availability = await self.repository.candidate_details([member.id], list(wanted))
        if not profiles:
            return [], 0
        candidate = self._candidate(profiles[0], skills, availability)
        best: dict[uuid.UUID, tuple[Mission, MissionSeat, matching.Score]] = {}
        for seat in seats.values():
            mission = missions[seat.mission_id]
            required = {row.skill_id: row.min_level for row, _ in seat_skills.get(seat.id, [])}
            result = matching.score(self._need(mission, seat, required), candidate, rules)
            if mission.id not in best or result.total > best[mission.id][2].total:
                best[mission.id] = (mission, seat, result)
        ranked = sorted(best.values(), key=lambda item: (-item[2].total, item[0].starts_on, str(item[0].id)))
        return ranked[offset : offset + limit], len(ranked)

    @staticmethod
    def _need(
        mission: Mission | MatchingMission, seat: MissionSeat | MatchingSeat, required: dict[uuid.UUID, int]
    ) -> matching.Need:
        day_rate = seat.day_rate_minor
        if day_rate is None and mission.budget_kind == BudgetKind.DAY_RATE:
            day_rate = mission.budget_amount_minor
        elif day_rate is None and mission.budget_days:
            day_rate = mission.budget_amount_minor // mission.budget_days
        return matching.Need(
            skills=required,
            day_rate_minor=day_rate,
            currency=mission.currency,
            starts_on=mission.starts_on,
            ends_on=mission.ends_on,
            work_mode=mission.work_mode,
            latitude=mission.latitude,
            longitude=mission.longitude,
            region=mission.region,
            country=mission.country,
        )

    @staticmethod
    def _candidate(profile: Any, skills: dict, availability: dict) -> matching.Candidate:
        return matching.Candidate(
            skills=skills.get(profile.account_id, {}),
            day_rate_min_minor=profile.day_rate_min_minor,
            currency=profile.currency,
            available_from=profile.available_from,
            availability=availability.get(profile.account_id, []),
            work_mode=profile.work_mode,
            travel_km=profile.travel_km,
            latitude=profile.latitude,
            longitude=profile.longitude,
            region=profile.region,
            country=profile.country,
        )
