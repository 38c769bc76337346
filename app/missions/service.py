"""Rules of the missions feature: posting, the guarded lifecycle, applications and staffing, questions,
two-sided reviews, mission search and matching.

Nothing here knows about HTTP; nothing here commits. Builds on the members feature (profiles,
visibility, attested skills); never the other way round.
"""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app.core.errors import Conflict, EmailNotVerified, Forbidden, InvalidInput, NotFound
from app.core.sealing import MasterKeys, MemberKeyRing, is_sealed, open_text, seal_text
from app.db.transaction import UnitOfWork
from app.members.service import MemberService, listed_visibilities, sees_members_only
from app.missions import matching
from app.missions.repository import (
    MatchingContext,
    MatchingMission,
    MatchingSeat,
    MissionFilters,
    MissionRepository,
    scoring_details,
)
from app.missions.schemas import MissionInput
from app.models import (
    Account,
    Application,
    ApplicationStatus,
    BudgetKind,
    Engagement,
    MarketplacePolicy,
    Mission,
    MissionQuestion,
    MissionSeat,
    MissionStatus,
    MissionTransition,
    Review,
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


class MissionService:
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

    # applications

    async def apply(
        self, member: Account, mission_id: uuid.UUID, seat_id: uuid.UUID, message: str, rate: int
    ) -> Application:
        mission = await self.visible(member, mission_id, lock=True)
        if member.id in (mission.owner_id, mission.referrer_id):
            raise Conflict("You cannot apply to a mission you brought.")
        if mission.status != S.OPEN:
            raise Conflict(f"Applications are closed: the mission is {mission.status}.")
        seat = next((s for s in await self.repository.seats(mission.id) if s.id == seat_id), None)
        if seat is None:
            raise InvalidInput.field("seat_id", "This mission has no such seat.")
        if await self.repository.seat_engagement(seat.id) is not None:
            raise Conflict("This seat is already filled.")
        if await self.repository.live_application_exists(seat.id, member.id):
            raise Conflict("You already applied to this seat.")
        application = Application(
            mission_id=mission.id, seat_id=seat.id, member_id=member.id, message=message, proposed_day_rate_minor=rate
        )
        await self._add_sealed(application, "message", member.id, APPLICATION_TABLE)
        await self._tell(
            mission.owner_id,
            Event.APPLICATION_RECEIVED,
            f"New application for {mission.title}",
            f'{member.display_name} applied to the seat "{seat.title}" of your mission "{mission.title}".\n'
            f"Read it: GET /api/v1/missions/{mission.id}/applications",
        )
        return application

    async def applications(
        self, viewer: Account, mission_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[Sequence[Application], int]:
        mission = await self.visible(viewer, mission_id)
        manager = viewer.id == mission.owner_id or is_admin(viewer)
        rows, total = await self.repository.applications_page(mission.id, None if manager else viewer.id, limit, offset)
        await self._open_messages(rows)
        return rows, total

    async def my_applications(
        self, member: Account, status: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[Application, str]], int]:
        rows, total = await self.repository.applications_of(member.id, status, limit, offset)
        await self._open_messages([application for application, _ in rows])
        return rows, total

    async def _open_messages(self, applications: Sequence[Application]) -> None:
        await self._open(applications, "message", "member_id", APPLICATION_TABLE)

    async def _open(self, rows: Sequence[Any], column: str, author: str, table: str) -> None:
        """Opens sealed texts in place (as loaded values: the ORM never writes the plaintext back); the
        text of an author whose key was destroyed (an erased member) reads `[erased]`."""
        sealed = [row for row in rows if is_sealed(getattr(row, column))]
        if not sealed or self._keys is None:
            return
        await self._keys.load({getattr(row, author) for row in sealed})
        for row in sealed:
            key = self._keys.loaded(getattr(row, author))
            self.repository.show_loaded(row, column, open_text(key, getattr(row, column), table=table, row_id=row.id))

    async def _add_sealed(self, row: Any, column: str, author_id: uuid.UUID, table: str) -> None:
        """Adds the row with `column` sealed under its author's data key (created on first use); the
        caller keeps seeing the text, the database holds only the ciphertext."""
        text = getattr(row, column)
        if self._keys is not None:
            key = await self._keys.key(author_id, create=True)
            assert key is not None
            setattr(row, column, seal_text(key, text, table=table, row_id=row.id))
        await self.repository.add(row)
        self.repository.show_loaded(row, column, text)

    async def my_engagements(
        self, member: Account, limit: int, offset: int
    ) -> tuple[list[tuple[Engagement, Mission]], int]:
        return await self.repository.engagements_of(member.id, limit, offset)

    async def decide(self, viewer: Account, mission_id: uuid.UUID, application_id: uuid.UUID, action: str):
        """Withdraw (the applicant), or shortlist, accept or decline (the owner and administrators)."""
        mission = await self.visible(viewer, mission_id, lock=True)
        application = await self.repository.get_application(mission.id, application_id)
        manager = viewer.id == mission.owner_id or is_admin(viewer)
        if application is None or not (manager or application.member_id == viewer.id):
            raise NotFound()
        await self._open_messages([application])
        now = datetime.now(UTC)
        pending = (ApplicationStatus.SUBMITTED, ApplicationStatus.SHORTLISTED)
        if action == "withdraw":
            if application.member_id != viewer.id:
                raise Forbidden("Only the applicant can withdraw an application.")
            if application.status not in pending:
                raise Conflict(f"An application that is {application.status} cannot be withdrawn.")
            application.status, application.decided_at = ApplicationStatus.WITHDRAWN, now
            return application
        if not manager:
            raise Forbidden("Only the mission's owner and administrators decide on applications.")
        if application.status not in pending or (
            action == "shortlist" and application.status == ApplicationStatus.SHORTLISTED
        ):
            raise Conflict(f"The application is {application.status}.")
        if action == "shortlist":
            application.status = ApplicationStatus.SHORTLISTED
            await self._tell(
                application.member_id,
                Event.APPLICATION_SHORTLISTED,
                f"You are shortlisted for {mission.title}",
                f'Your application to "{mission.title}" is on the shortlist; the client may come back to you.',
            )
        elif action == "decline":
            application.status, application.decided_at = ApplicationStatus.DECLINED, now
            await self._declined(mission, application.member_id)
        else:
            await self._accept(viewer, mission, application, now)
        return application

    async def _declined(self, mission: Mission, member_id: uuid.UUID, *, seat_filled: bool = False) -> None:
        reason = " The seat went to another member." if seat_filled else ""
        await self._tell(
            member_id,
            Event.APPLICATION_DECLINED,
            f"Your application to {mission.title}",
            f'Your application to "{mission.title}" was not retained.{reason}'
            " Other missions may fit you: GET /api/v1/me/matches",
        )

    async def _accept(self, viewer: Account, mission: Mission, application: Application, now: datetime) -> None:
        if mission.status != S.OPEN:
            raise Conflict(f"Seats are filled while the mission is open; it is {mission.status}.")
        if await self.repository.seat_engagement(application.seat_id) is not None:
            raise Conflict("This seat is already filled.")
        seats = await self.repository.seats(mission.id)
        seat = next(s for s in seats if s.id == application.seat_id)
        application.status, application.decided_at = ApplicationStatus.ACCEPTED, now
        await self.repository.add(
            Engagement(
                mission_id=mission.id,
                seat_id=seat.id,
                member_id=application.member_id,
                application_id=application.id,
                day_rate_minor=application.proposed_day_rate_minor,
                days=seat.days or mission.budget_days,
                starts_on=mission.starts_on,
                ends_on=mission.ends_on,
            )
        )
        others = await self.repository.pending_applicants(seat.id, application.id)
        await self.repository.decline_others(seat.id, application.id, now)
        await self._tell(
            application.member_id,
            Event.APPLICATION_ACCEPTED,
            f"Accepted: {mission.title}",
            f'Your application to the seat "{seat.title}" of "{mission.title}" is accepted, at your proposed'
            f" day rate. Your engagements: GET /api/v1/me/engagements",
        )
        for member_id in others:
            await self._declined(mission, member_id, seat_filled=True)
        filled = {e.seat_id for e in await self.repository.engagements(mission.id)}
        if all(s.id in filled for s in seats):
            await self._move(mission, S.STAFFED, viewer.id, "every seat filled")

    # questions

    async def questions(
        self, viewer: Account | None, mission_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[Sequence[MissionQuestion], int]:
        mission = await self.visible(viewer, mission_id)
        rows, total = await self.repository.questions(mission.id, limit, offset)
        await self._open(rows, "body", "author_id", QUESTION_TABLE)
        return rows, total

    async def ask(self, member: Account, mission_id: uuid.UUID, body: str) -> MissionQuestion:
        mission = await self.visible(member, mission_id)
        if member.id == mission.owner_id:
            raise Conflict("The owner answers questions; they do not ask them.")
        if mission.status not in (S.OPEN, S.STAFFED, S.IN_PROGRESS):
            raise Conflict(f"Questions are closed: the mission is {mission.status}.")
        question = MissionQuestion(mission_id=mission.id, author_id=member.id, body=body)
        await self._add_sealed(question, "body", member.id, QUESTION_TABLE)
        return question

    async def answer(self, viewer: Account, mission_id: uuid.UUID, question_id: uuid.UUID, answer: str):
        mission = await self._managed(viewer, mission_id)
        question = await self.repository.get_question(mission.id, question_id)
        if question is None:
            raise NotFound()
        await self._open([question], "body", "author_id", QUESTION_TABLE)
        question.answer, question.answered_by_id, question.answered_at = answer, viewer.id, datetime.now(UTC)
        await self._tell(
            question.author_id,
            Event.QUESTION_ANSWERED,
            f"Your question about {mission.title} is answered",
            f"You asked: {question.body[:300]}\n\nThe answer: {answer[:2000]}",
        )
        return question

    # reviews

    async def review(
        self,
        author: Account,
        mission_id: uuid.UUID,
        *,
        subject_id: uuid.UUID,
        rating: int,
        text: str,
        skills_seen: Sequence[uuid.UUID],
    ) -> Review:
        mission = await self.visible(author, mission_id, lock=True)
        if mission.status not in REVIEWABLE:
            raise Conflict("Reviews open once the mission is delivered.")
        engaged = {e.member_id for e in await self.repository.engagements(mission.id)}
        participants = engaged | {mission.owner_id}
        if author.id not in participants:
            raise Forbidden("Only the mission's client side and its engaged members review each other.")
        if subject_id not in participants or subject_id == author.id:
            raise InvalidInput.field("subject_id", "Review another participant of this mission.")
        if await self.repository.review_exists(mission.id, author.id, subject_id):
            raise Conflict("You already reviewed this participant for this mission.")
        if skills_seen:
            known = await self.members.repository.skills_by_ids(list(skills_seen))
            if len(known) != len(set(skills_seen)):
                raise InvalidInput.field("skills_seen", "Skills come from the référentiel.")
            if subject_id not in engaged:
                raise InvalidInput.field("skills_seen", "Skills are attested for the members who did the work.")
        review = Review(
            mission_id=mission.id,
            author_id=author.id,
            subject_id=subject_id,
            rating=rating,
            text=text,
            skills_seen=list(dict.fromkeys(skills_seen)),
        )
        await self._add_sealed(review, "text", author.id, REVIEW_TABLE)
        counterpart = await self.repository.counterpart(review)
        if counterpart is not None:
            # Both sides are in: published together, so neither answered the other's review.
            await self._publish(review)
            await self._publish(counterpart)
        return review

    async def _publish(self, review: Review) -> None:
        if review.published_at is not None:
            return
        review.published_at = datetime.now(UTC)
        await self._tell(
            review.subject_id,
            Event.REVIEW_PUBLISHED,
            "A review about you is published",
            f"A review of your work on a mission is now public ({review.rating}/5)."
            f" Read it: GET /api/v1/missions/{review.mission_id}/reviews",
        )
        if review.skills_seen:
            await self.members.attest_skills(
                member_id=review.subject_id,
                skill_ids=[uuid.UUID(str(s)) for s in review.skills_seen],
                mission_id=review.mission_id,
                review_id=review.id,
                attested_by_id=review.author_id,
            )

    async def publish_due(
        self,
        *,
        mission_id: uuid.UUID | None = None,
        subject_id: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
    ) -> int:
        """Publish the reviews waiting 14 days after delivery for a counterpart that never came."""
        due = await self.repository.due_reviews(
            mission_id=mission_id, subject_id=subject_id, organisation_id=organisation_id
        )
        for review in due:
            await self._publish(review)
        return len(due)

    async def mission_reviews(
        self, viewer: Account | None, mission_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews of the mission, and the viewer's own unpublished ones."""
        mission = await self.visible(viewer, mission_id)
        await self.publish_due(mission_id=mission.id)
        return await self._opened_reviews(
            await self.repository.reviews_of_mission(mission.id, viewer.id if viewer else None, limit, offset)
        )

    async def _opened_reviews(self, page: tuple[list[tuple[Review, str]], int]) -> tuple[list[tuple[Review, str]], int]:
        await self._open([review for review, _ in page[0]], "text", "author_id", REVIEW_TABLE)
        return page

    async def organisation_reviews(
        self, viewer: Account, organisation_id: uuid.UUID, limit: int, offset: int
    ) -> tuple[list[tuple[Review, str]], int]:
        """Published reviews about a client organisation (its people on its missions): for admitted
        members deciding whether to apply, the organisation's own people and administrators."""
        if not (sees_members_only(viewer) or viewer.client_organisation_id == organisation_id):
            raise NotFound()
        if not await self.repository.organisation_exists(organisation_id):
            raise NotFound()
        await self.publish_due(organisation_id=organisation_id)
        return await self._opened_reviews(
            await self.repository.published_reviews_of_organisation(organisation_id, limit, offset)
        )

    async def profile_reviews(self, viewer: Account | None, account_id: uuid.UUID, limit: int, offset: int):
        await self.members.visible_profile(viewer, account_id)  # 404 unless the viewer may see the profile
        await self.publish_due(subject_id=account_id)
        return await self._opened_reviews(await self.repository.published_reviews_of(account_id, limit, offset))

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
