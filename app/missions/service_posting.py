"""Posting a mission and its guarded lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from app.core.errors import Conflict, EmailNotVerified, Forbidden, InvalidInput
from app.missions.schemas import MissionInput
from app.missions.service_base import TRANSITIONS, MissionServiceBase, MissionView, S, is_admin
from app.models import (
    Account,
    BudgetKind,
    Mission,
    MissionSeat,
    MissionTransition,
    Role,
)
from app.notifications.service import Event


class PostingRules(MissionServiceBase):
    # posting

    async def create(self, author: Account, data: MissionInput) -> MissionView:
        seats = await self._check(data)
        mission = Mission(
            owner_id=author.id,
            client_organisation_id=author.client_organisation_id if author.role == Role.CLIENT else None,
            referrer_id=author.id if author.role == Role.MEMBER else None,
            title=data.title,
            description=data.description,
            budget_kind=data.budget_kind,
            budget_amount_minor=data.budget_amount_minor,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            work_mode=data.work_mode,
        )
        self._fill(mission, data)
        await self.repository.add(mission)
        await self.repository.log_transition(
            MissionTransition(mission_id=mission.id, from_status=None, to_status=S.DRAFT, actor_id=author.id)
        )
        await self._save_seats(mission, seats)
        return await self.view(author, mission)

    async def replace(self, viewer: Account, mission_id: uuid.UUID, data: MissionInput) -> MissionView:
        mission = await self._managed(viewer, mission_id)
        if mission.status != S.DRAFT:
            raise Conflict("A mission can be rewritten while it is a draft; once open, its seats have applicants.")
        seats = await self._check(data)
        mission.title, mission.description = data.title, data.description
        mission.budget_kind, mission.budget_amount_minor = data.budget_kind, data.budget_amount_minor
        mission.starts_on, mission.ends_on, mission.work_mode = data.starts_on, data.ends_on, data.work_mode
        self._fill(mission, data)
        mission.updated_at = datetime.now(UTC)
        await self._save_seats(mission, seats)
        return await self.view(viewer, mission)

    @staticmethod
    def _fill(mission: Mission, data: MissionInput) -> None:
        mission.client_name = data.client_name
        mission.budget_days = data.budget_days
        mission.currency = data.currency
        mission.city, mission.postal_code, mission.region = data.city, data.postal_code, data.region
        mission.country, mission.latitude, mission.longitude = data.country, data.latitude, data.longitude
        mission.visibility = data.visibility

    async def _check(self, data: MissionInput) -> list[tuple[MissionSeat, dict[uuid.UUID, int]]]:
        if data.ends_on < data.starts_on:
            raise InvalidInput.field("ends_on", "A mission ends on or after its start.")
        if data.budget_kind == BudgetKind.DAY_RATE and data.budget_days is None:
            raise InvalidInput.field("budget_days", "A day-rate budget says for how many days.")
        if (data.latitude is None) != (data.longitude is None):
            raise InvalidInput.field("latitude", "Give both coordinates, or neither.")
        # The budget's days are the mission's days of work, all seats together: the seats' own days
        # (a seat without days takes the budget's) cannot add up to more.
        seat_days = sum(seat.days for seat in data.seats if seat.days is not None)
        if data.budget_days is not None and seat_days > data.budget_days:
            raise InvalidInput.field(
                "seats",
                f"The seats' days add up to {seat_days}, more than the {data.budget_days} days the mission budgets.",
            )
        wanted = {entry.skill_id for seat in data.seats for entry in seat.skills}
        known = await self.members.repository.skills_by_ids(list(wanted))
        seats = []
        for position, seat in enumerate(data.seats):
            skills: dict[uuid.UUID, int] = {}
            for index, entry in enumerate(seat.skills):
                skill = known.get(entry.skill_id)
                if skill is None:
                    raise InvalidInput.field(f"seats[{position}].skills[{index}].skill_id", "No such skill.")
                target = skill.merged_into_id or skill.id
                skills[target] = max(skills.get(target, 0), entry.min_level)
            seats.append(
                (
                    MissionSeat(
                        position=position, title=seat.title, day_rate_minor=seat.day_rate_minor, days=seat.days
                    ),
                    skills,
                )
            )
        return seats

    async def _save_seats(self, mission: Mission, seats: list[tuple[MissionSeat, dict[uuid.UUID, int]]]) -> None:
        for seat, _ in seats:
            seat.mission_id = mission.id
        await self.repository.replace_seats(mission.id, seats)
        mission.skills_text = await self.repository.skill_names(mission.id)
        await self.members.repository.learn_words(mission.title, mission.description, mission.skills_text)

    async def mine(self, viewer: Account, limit: int, offset: int) -> tuple[Sequence[Mission], dict, int]:
        rows, total = await self.repository.owned(viewer.id, limit, offset)
        return rows, await self.repository.seat_counts([row.id for row in rows]), total

    # the lifecycle

    async def transition(
        self, viewer: Account, mission_id: uuid.UUID, to: str, reason: str | None = None
    ) -> MissionView:
        mission = await self._managed(viewer, mission_id)
        if to not in TRANSITIONS[mission.status]:
            allowed = ", ".join(sorted(TRANSITIONS[mission.status])) or "none (final)"
            raise Conflict(f"A mission cannot go from {mission.status} to {to}; from here: {allowed}.")
        seats = await self.repository.seats(mission.id)
        if to == S.OPEN and not seats:
            raise Conflict("A mission opens with at least one seat to fill.")
        if to == S.OPEN and not await self.repository.email_verified(mission.owner_id):
            raise EmailNotVerified(
                "Publishing a mission needs a verified email address: follow the link mailed at registration"
                " (or ask for a new one with POST /api/v1/auth/verify-email/request)."
            )
        if to == S.STAFFED:
            filled = {e.seat_id for e in await self.repository.engagements(mission.id)}
            if any(seat.id not in filled for seat in seats):
                raise Conflict("Every seat must be filled (accept an application for each) before staffed.")
        await self._move(mission, to, viewer.id, reason)
        return await self.view(viewer, mission)

    async def _move(self, mission: Mission, to: str, actor_id: uuid.UUID | None, reason: str | None = None) -> None:
        await self.repository.log_transition(
            MissionTransition(
                mission_id=mission.id, from_status=mission.status, to_status=to, actor_id=actor_id, reason=reason
            )
        )
        now = datetime.now(UTC)
        mission.status = to
        mission.updated_at = now
        if to == S.DELIVERED:
            mission.delivered_at = now
        if to == S.STAFFED:
            team = [e.member_id for e in await self.repository.engagements(mission.id)]
            for account_id in dict.fromkeys([mission.owner_id, *team]):
                await self._tell(
                    account_id,
                    Event.MISSION_STAFFED,
                    f"Staffed: {mission.title}",
                    f'Every seat of "{mission.title}" is filled: the team is complete'
                    f" ({len(team)} member{'s' if len(team) > 1 else ''}). It starts on {mission.starts_on}.",
                )

    async def transitions(self, viewer: Account, mission_id: uuid.UUID) -> Sequence[MissionTransition]:
        mission = await self.visible(viewer, mission_id)
        if not (is_admin(viewer) or await self._participant(viewer, mission)):
            raise Forbidden("The lifecycle log is for the mission's participants and administrators.")
        return await self.repository.transitions(mission.id)
