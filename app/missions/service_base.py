"""What every part of the missions service shares: the statuses and their transitions, the views
it answers with, and who may see a mission."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.core.errors import Forbidden, NotFound
from app.core.sealing import MasterKeys, MemberKeyRing
from app.db.transaction import UnitOfWork
from app.members.service import MemberService, sees_members_only
from app.missions import matching
from app.missions.repository import (
    MatchingContext,
    MatchingMission,
    MatchingSeat,
    MissionRepository,
)
from app.models import (
    Account,
    Engagement,
    Mission,
    MissionSeat,
    MissionStatus,
    Role,
    SeatSkill,
    Skill,
)
from app.notifications.service import Event, NotificationService

S = MissionStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.OPEN, S.CANCELLED}),
    S.OPEN: frozenset({S.STAFFED, S.CANCELLED}),
    S.STAFFED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DELIVERED, S.CANCELLED}),
    S.DELIVERED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
LISTED_STATUSES = (S.OPEN, S.STAFFED, S.IN_PROGRESS, S.DELIVERED, S.CLOSED)
REVIEWABLE = (S.DELIVERED, S.CLOSED)
REVIEW_DELAY_DAYS = 14


def is_admin(account: Account | None) -> bool:
    return account is not None and account.role == Role.ADMIN


@dataclass(frozen=True)
class MissionView:
    mission: Mission
    seats: list[tuple[MissionSeat, list[tuple[SeatSkill, Skill]], bool]]  # seat, its skills, filled
    engagements: Sequence[Engagement] | None  # None when the viewer may not see who is engaged
    # Engagements whose day rate the viewer may not see: a teammate's rate is between that member,
    # the client side and administrators.
    hidden_rates: frozenset[uuid.UUID] = frozenset()
    # Public, and its organisation (if a client's) verified: what anonymous visitors and clients see.
    listed_publicly: bool = False


@dataclass(frozen=True)
class SeatMatches:
    seat: MissionSeat | MatchingSeat
    candidates: list[tuple[Any, matching.Score]]


@dataclass(frozen=True)
class MissionSearch:
    q: str | None = None
    skills: Sequence[str] = ()
    region: str | None = None
    work_modes: Sequence[str] = ()
    statuses: Sequence[str] = (S.OPEN,)
    starts_after: date | None = None
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0


# Personal free texts sealed under their author's data key (app.core.sealing), never searched in SQL;
# the associated data of each ciphertext is its table and row id.
APPLICATION_TABLE = "application"  # message
QUESTION_TABLE = "mission_question"  # body (the owner's answer stays in clear)
REVIEW_TABLE = "review"  # text


class MissionServiceBase:
    def __init__(
        self,
        unit_of_work: UnitOfWork,
        notifications: NotificationService | None = None,
        master_keys: MasterKeys | None = None,
    ) -> None:
        self.repository = MissionRepository(unit_of_work.session, unit_of_work.database)
        self.members = MemberService(unit_of_work)
        # None where nobody is to be mailed (the demo's fictitious addresses).
        self._notifications = notifications
        # Applications' messages, questions and reviews are sealed under their author's data key
        # (crypto-shredded when the vault destroys it on erasure).
        # Without the master keys (services built for demos and other features' internal calls, which
        # never show a message) messages are written in clear and sealed ones are not opened.
        self._keys = MemberKeyRing(unit_of_work.session, master_keys) if master_keys is not None else None

    async def _tell(self, account_id: uuid.UUID | None, event: Event, subject: str, body: str) -> None:
        if self._notifications is not None:
            await self._notifications.notify(account_id, event, subject, body)

    # visibility

    # `facts`, when given, answers the rules' questions about the database (engaged? applied? the
    # organisation verified?) as read together with the mission (`matching_context`); otherwise each
    # is asked of the repository when the rules get to it. The rules are the same either way.

    async def _participant(
        self, viewer: Account | None, mission: Mission | MatchingMission, facts: MatchingContext | None = None
    ) -> bool:
        if viewer is None:
            return False
        if viewer.id in (mission.owner_id, mission.referrer_id):
            return True
        if facts is not None:
            return viewer.id in facts.engaged
        return await self.repository.is_engaged(mission.id, viewer.id)

    async def _can_view(
        self, viewer: Account | None, mission: Mission | MatchingMission, facts: MatchingContext | None = None
    ) -> bool:
        if is_admin(viewer) or await self._participant(viewer, mission, facts):
            return True
        if viewer is not None and (
            facts.applied if facts is not None else await self.repository.applications(mission.id, viewer.id)
        ):
            return True  # applicants keep seeing what they applied to
        if mission.status in (S.DRAFT, S.CANCELLED):
            return False
        if sees_members_only(viewer):
            return True
        return mission.visibility == "public" and await self._public_allowed(mission, facts)

    async def _public_allowed(self, mission: Mission | MatchingMission, facts: MatchingContext | None = None) -> bool:
        """A client's mission goes public once an administrator verified its organisation; until then
        admitted members alone see it (a self-declared organisation could be anyone)."""
        if mission.client_organisation_id is None:
            return True
        if facts is not None:
            return facts.organisation_verified
        return await self.repository.organisation_verified(mission.client_organisation_id)

    async def visible(self, viewer: Account | None, mission_id: uuid.UUID, *, lock: bool = False) -> Mission:
        """A mission the viewer may see; otherwise it does not exist (404, like a missing one)."""
        mission = await self.repository.get(mission_id, lock=lock)
        if mission is None or not await self._can_view(viewer, mission):
            raise NotFound()
        return mission

    async def _managed(self, viewer: Account, mission_id: uuid.UUID) -> Mission:
        """A mission the viewer manages (its owner or an administrator): 404 if unseen, 403 if seen only."""
        mission = await self.visible(viewer, mission_id, lock=True)
        if viewer.id != mission.owner_id and not is_admin(viewer):
            raise Forbidden("Only the mission's owner and administrators can do this.")
        return mission

    async def view(self, viewer: Account | None, mission: Mission) -> MissionView:
        seats = await self.repository.seats(mission.id)
        skills = await self.repository.seat_skills([seat.id for seat in seats])
        engagements = await self.repository.engagements(mission.id)
        filled = {engagement.seat_id for engagement in engagements}
        privileged = is_admin(viewer) or await self._participant(viewer, mission)
        client_side = viewer is not None and (is_admin(viewer) or viewer.id in (mission.owner_id, mission.referrer_id))
        hidden = frozenset(
            e.id for e in engagements if not client_side and (viewer is None or e.member_id != viewer.id)
        )
        return MissionView(
            mission=mission,
            seats=[(seat, skills.get(seat.id, []), seat.id in filled) for seat in seats],
            engagements=engagements if privileged else None,
            hidden_rates=hidden,
            listed_publicly=mission.visibility == "public" and await self._public_allowed(mission),
        )
