"""Applications, staffing (engagements) and the questions asked about a mission."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.sealing import is_sealed, open_text, seal_text
from app.missions.service_base import APPLICATION_TABLE, QUESTION_TABLE, MissionServiceBase, S, is_admin
from app.models import (
    Account,
    Application,
    ApplicationStatus,
    Engagement,
    Mission,
    MissionQuestion,
)
from app.notifications.service import Event


class StaffingRules(MissionServiceBase):
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
