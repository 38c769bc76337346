"""Rules of the needs diagnostic: take the questionnaire (anonymously or signed in), draft a mission from
the answers (app/diagnostic/rules.py), let an anonymous visitor claim the result after signing up,
and post the edited draft through the missions feature.

Nothing here knows about HTTP; nothing here commits. The mission is created by `MissionService.create`
exactly as POST /api/v1/missions would; this feature only remembers which result it came from.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from app.core.errors import Conflict, InvalidInput, InvalidToken, NotFound
from app.db.transaction import UnitOfWork
from app.diagnostic import rules
from app.diagnostic.repository import DiagnosticRepository
from app.diagnostic.schemas import (
    BudgetOut,
    DraftOut,
    DraftSeatOut,
    DraftSkillOut,
    SourceOut,
    TextElement,
    TimelineOut,
)
from app.missions.schemas import MissionInput, SeatInput, SeatSkillInput
from app.missions.service import MissionService
from app.models import Account, DiagnosticResult, Role

CLAIM_DAYS = 7


@dataclass(frozen=True)
class ResultView:
    result: DiagnosticResult
    draft: DraftOut
    claim_token: str | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sources(sources: list[rules.Source]) -> list[SourceOut]:
    unique = {(s.rule, s.question, s.answer): s for s in sources}
    return [
        SourceOut(rule=s.rule, question=s.question, answer=s.answer, answer_text=s.answer_text) for s in unique.values()
    ]


class DiagnosticService:
    def __init__(self, unit_of_work: UnitOfWork, *, questionnaire_file: Path | None = None) -> None:
        self.repository = DiagnosticRepository(unit_of_work.session)
        self.missions = MissionService(unit_of_work)
        self.questionnaire_file = questionnaire_file

    def questionnaire(self) -> rules.Questionnaire:
        return rules.load(self.questionnaire_file)

    async def take(self, caller: Account | None, answers: Mapping[str, list[str]]) -> ResultView:
        questionnaire = self.questionnaire()
        problems = rules.check_answers(questionnaire, answers)
        if problems:
            raise InvalidInput(
                "Some answers do not fit the questionnaire.",
                errors=[{"field": f"answers.{field}", "message": message} for field, message in problems],
            )
        draft = await self._draft(questionnaire, answers, datetime.now(UTC).date())
        token = None if caller is not None else secrets.token_urlsafe(32)
        result = DiagnosticResult(
            owner_id=caller.id if caller is not None else None,
            questionnaire_version=questionnaire.version,
            answers={question: list(chosen) for question, chosen in answers.items()},
            draft=msgspec.to_builtins(draft),
            claim_token_hash=_hash(token) if token else None,
            claim_expires_at=datetime.now(UTC) + timedelta(days=CLAIM_DAYS) if token else None,
        )
        await self.repository.add(result)
        if caller is None:
            await self.repository.purge_unclaimed(datetime.now(UTC))
        return ResultView(result, draft, token)

    async def get(self, caller: Account, result_id: uuid.UUID) -> ResultView:
        result = await self._visible(caller, result_id)
        return ResultView(result, msgspec.convert(result.draft, DraftOut))

    async def claim(self, caller: Account, token: str) -> ResultView:
        """An anonymous visitor, now signed in, makes their result theirs (once, within CLAIM_DAYS)."""
        result = await self.repository.by_claim(_hash(token))
        now = datetime.now(UTC)
        if result is None or result.owner_id is not None or (result.claim_expires_at or now) < now:
            raise InvalidToken("This diagnostic token is unknown, expired or already used.")
        result.owner_id, result.claimed_at, result.claim_token_hash = caller.id, now, None
        return ResultView(result, msgspec.convert(result.draft, DraftOut))

    async def post_mission(self, caller: Account, result_id: uuid.UUID, data: MissionInput) -> tuple[uuid.UUID, str]:
        """Post the (edited) draft through the missions feature; a result drafts one mission."""
        result = await self._visible(caller, result_id, lock=True)
        if result.mission_id is not None:
            raise Conflict("This diagnostic already produced a mission: edit that one.")
        view = await self.missions.create(caller, data)
        result.mission_id = view.mission.id
        return view.mission.id, view.mission.status

    async def _visible(self, caller: Account, result_id: uuid.UUID, *, lock: bool = False) -> DiagnosticResult:
        result = await self.repository.get(result_id, lock=lock)
        if result is None or (result.owner_id != caller.id and caller.role != Role.ADMIN):
            raise NotFound()
        return result

    async def _draft(
        self, questionnaire: rules.Questionnaire, answers: Mapping[str, list[str]], today: date
    ) -> DraftOut:
        found = rules.draft(questionnaire, answers, today)
        skills = await self.repository.skills_by_slugs(sorted(questionnaire.slugs()))
        seats = []
        for seat in found.seats:
            seat_skills = [
                DraftSkillOut(
                    skill_id=skills[slug].id,
                    slug=slug,
                    name=skills[slug].name,
                    min_level=level,
                    sources=_sources(seat.skill_sources[slug]),
                )
                for slug, level in seat.skills.items()
                if slug in skills  # a slug missing from the référentiel is skipped, not invented
            ]
            seats.append(DraftSeatOut(title=seat.title, skills=seat_skills, sources=_sources(seat.sources)))
        budget = BudgetOut(
            min_minor=found.budget_min_minor,
            max_minor=found.budget_max_minor,
            currency="EUR",
            sources=_sources(found.budget_sources),
        )
        amount = ((found.budget_min_minor or 0) + (found.budget_max_minor or 0)) // 2
        mission = MissionInput(
            title=found.title,
            description=found.description,
            budget_kind="fixed",
            budget_amount_minor=amount,
            starts_on=found.starts_on,
            ends_on=found.ends_on,
            work_mode=found.work_mode,  # type: ignore[arg-type]
            seats=[
                SeatInput(
                    title=seat.title,
                    skills=[SeatSkillInput(skill_id=s.skill_id, min_level=s.min_level) for s in seat.skills],
                )
                for seat in seats[:10]
            ],
        )
        return DraftOut(
            title=TextElement(value=found.title, sources=_sources(found.title_sources)),
            description=TextElement(value=found.description, sources=_sources(found.description_sources)),
            seats=seats,
            budget=budget,
            timeline=TimelineOut(
                starts_on=found.starts_on,
                ends_on=found.ends_on,
                weeks=found.weeks,
                sources=_sources(found.timeline_sources),
            ),
            work_mode=TextElement(value=found.work_mode, sources=_sources(found.work_mode_sources)),
            rules_fired=found.rules_fired,
            mission=mission,
        )


def answers_of(items: list[Any]) -> dict[str, list[str]]:
    """The request's list of answers as question -> chosen answers (a question given twice is an error)."""
    answers: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if item.question in answers:
            raise InvalidInput.field(f"answers[{index}].question", "Each question is answered once.")
        answers[item.question] = list(dict.fromkeys(item.answers))
    return answers
