"""Rules of the training-paths feature: the catalogue, a member's gap toward a target, the path that closes
it (app/training/paths.py), following it, and the missions it opens.

Nothing here knows about HTTP; nothing here commits. Reads missions and profiles through their
features' services and repositories; a step marked done adds its skills to the profile through
`MemberService.add_skill` with provenance "trained". Never the other way round.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.core.errors import AppError, Conflict, InvalidInput, NotFound
from app.db.transaction import UnitOfWork
from app.members.service import MemberService, listed_visibilities
from app.missions.service import MissionService
from app.models import (
    Account,
    MissionStatus,
    PathStatus,
    Skill,
    SkillOrigin,
    Training,
    TrainingPath,
    TrainingPathStep,
    TrainingSkill,
)
from app.training import catalogue_csv, paths
from app.training.repository import TrainingRepository
from app.training.schemas import PathRequest, TrainingInput


class CatalogueCsvInvalid(AppError):
    status_code = 422
    slug = "catalogue-csv-invalid"
    title = "The catalogue CSV has errors; nothing was imported"


class PathTargetInvalid(AppError):
    status_code = 422
    slug = "path-target-invalid"
    title = "A path aims at one open mission's seat or at a list of skills"


@dataclass(frozen=True)
class TrainingView:
    training: Training
    skills: list[tuple[TrainingSkill, Skill]]


@dataclass(frozen=True)
class UnlockedSeat:
    mission_id: uuid.UUID
    mission_title: str
    seat_id: uuid.UUID
    seat_title: str


@dataclass(frozen=True)
class StepView:
    step: TrainingPathStep | None
    position: int
    training: TrainingView
    covers: list[str]


@dataclass(frozen=True)
class PathView:
    path: TrainingPath | None  # None for a plan not (yet) followed
    mission_id: uuid.UUID | None
    seat_id: uuid.UUID | None
    optimise: str
    method: str
    steps: list[StepView]
    skills: list[dict[str, Any]]  # the explanation, skill by skill (see `_explanation`)
    uncovered: list[str]
    unlocked: list[UnlockedSeat]


class TrainingService:
    def __init__(self, unit_of_work: UnitOfWork) -> None:
        self.repository = TrainingRepository(unit_of_work.session)
        self.members = MemberService(unit_of_work)
        self.missions = MissionService(unit_of_work)

    # the catalogue

    async def catalogue(
        self,
        *,
        skill: str | None,
        cpf: bool | None,
        format: str | None,
        include_inactive: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[TrainingView], int]:
        skill_id = None
        if skill:
            found = await self.members.repository.skill_by_term(skill)
            if found is None:
                raise InvalidInput.field("skill", f"Unknown skill {skill[:60]!r}.")
            skill_id = found.id
        rows, total = await self.repository.search(
            skill_id=skill_id, cpf=cpf, format=format, active_only=not include_inactive, limit=limit, offset=offset
        )
        return await self._views(rows), total

    async def training(self, training_id: uuid.UUID) -> TrainingView:
        training = await self.repository.get(training_id)
        if training is None:
            raise NotFound()
        return (await self._views([training]))[0]

    async def create(self, data: TrainingInput) -> TrainingView:
        if await self.repository.by_references([data.reference]):
            raise Conflict(f"A training with reference {data.reference!r} exists: PUT it to change it.")
        training = Training(
            reference=data.reference,
            title=data.title,
            provider=data.provider,
            duration_hours=data.duration_hours,
            cost_minor=data.cost_minor,
            format=data.format,
        )
        return await self._save(training, data, new=True)

    async def replace(self, training_id: uuid.UUID, data: TrainingInput) -> TrainingView:
        training = await self.repository.get(training_id)
        if training is None:
            raise NotFound()
        other = (await self.repository.by_references([data.reference])).get(data.reference)
        if other is not None and other.id != training.id:
            raise Conflict(f"Reference {data.reference!r} belongs to another training.")
        return await self._save(training, data, new=False)

    async def _save(self, training: Training, data: TrainingInput, *, new: bool) -> TrainingView:
        known = await self.members.repository.skills_by_ids([entry.skill_id for entry in data.skills])
        skills: dict[uuid.UUID, int] = {}
        for index, entry in enumerate(data.skills):
            skill = known.get(entry.skill_id)
            if skill is None:
                raise InvalidInput.field(f"skills[{index}].skill_id", "No such skill in the référentiel.")
            target = skill.merged_into_id or skill.id
            skills[target] = max(skills.get(target, 0), entry.level)
        for name in ("reference", "title", "provider", "description", "duration_hours", "cost_minor", "currency"):
            setattr(training, name, getattr(data, name))
        training.format, training.place = data.format, data.place
        training.cpf_eligible, training.active = data.cpf_eligible, data.active
        training.updated_at = datetime.now(UTC)
        if new:
            await self.repository.add(training)
        await self.repository.replace_skills(training.id, skills)
        return (await self._views([training]))[0]

    async def import_csv(self, text: str) -> tuple[int, int]:
        """Create or update every training of the file, or none if any line is wrong (all lines reported)."""
        try:
            rows = catalogue_csv.parse(text)
        except catalogue_csv.CsvErrors as failure:
            raise CatalogueCsvInvalid(
                f"{len(failure.errors)} line(s) of the CSV are wrong; nothing was imported.",
                errors=[{"field": f"line {line}", "message": message} for line, message in failure.errors[:50]],
            ) from None
        skills = await self.repository.skills_by_slugs(sorted({slug for row in rows for slug in row.skills}))
        unknown = [(row.line, slug) for row in rows for slug in row.skills if slug not in skills]
        if unknown:
            raise CatalogueCsvInvalid(
                f"{len(unknown)} skill(s) are not in the référentiel; nothing was imported.",
                errors=[
                    {"field": f"line {line}", "message": f"Unknown skill {slug!r}."} for line, slug in unknown[:50]
                ],
            )
        existing = await self.repository.by_references([row.reference for row in rows])
        created = updated = 0
        for row in rows:
            training = existing.get(row.reference)
            if training is None:
                training = Training(
                    reference=row.reference,
                    title=row.title,
                    provider=row.provider,
                    duration_hours=row.duration_hours,
                    cost_minor=row.cost_minor,
                    format=row.format,
                )
                await self.repository.add(training)
                created += 1
            else:
                updated += 1
            training.title, training.provider, training.description = row.title, row.provider, row.description
            training.duration_hours, training.cost_minor = row.duration_hours, row.cost_minor
            training.format, training.place, training.cpf_eligible = row.format, row.place, row.cpf_eligible
            training.active, training.updated_at = True, datetime.now(UTC)
            await self.repository.replace_skills(
                training.id, {skills[slug].id: level for slug, level in row.skills.items()}
            )
        return created, updated

    async def _views(self, trainings: Sequence[Training]) -> list[TrainingView]:
        skills = await self.repository.skills_of([t.id for t in trainings])
        return [TrainingView(t, skills.get(t.id, [])) for t in trainings]

    # planning

    async def plan(self, member: Account, request: PathRequest) -> PathView:
        target, names, mission_id, seat_id = await self._target(member, request)
        current = await self._levels(member.id)
        trainings = await self._views(await self.repository.active())
        offers = [_offer(view) for view in trainings]
        result = paths.plan(
            {str(k): v for k, v in target.items()},
            {str(k): v for k, v in current.items()},
            offers,
            optimise=request.optimise,
        )
        by_id = {str(view.training.id): view for view in trainings}
        skill_names = names | {s.id: s for view in trainings for _, s in view.skills}
        steps = [
            StepView(None, position, by_id[offer.id], _covers(offer, result, skill_names))
            for position, offer in enumerate(result.steps, start=1)
        ]
        after = dict(current)
        for offer in result.steps:
            for skill, level in offer.teaches.items():
                after[uuid.UUID(skill)] = max(after.get(uuid.UUID(skill), 0), level)
        return PathView(
            path=None,
            mission_id=mission_id,
            seat_id=seat_id,
            optimise=request.optimise,
            method=result.method,
            steps=steps,
            skills=[_explanation(item, skill_names, by_id) for item in result.skills],
            uncovered=[skill_names[uuid.UUID(s)].slug for s in result.uncovered],
            unlocked=await self._unlocked(member, current, after),
        )

    async def follow(self, member: Account, request: PathRequest) -> PathView:
        planned = await self.plan(member, request)
        if not planned.steps:
            raise Conflict("Nothing to follow: the target is met, or no training in the catalogue closes the gap.")
        path = TrainingPath(
            member_id=member.id,
            mission_id=planned.mission_id,
            seat_id=planned.seat_id,
            target=[{"skill_id": str(item["skill"].id), "level": item["required_level"]} for item in planned.skills],
            explanation=[{**item, "skill": str(item["skill"].id)} for item in planned.skills],
            optimise=planned.optimise,
            method=planned.method,
        )
        await self.repository.add(path)
        await self.repository.add(
            *(
                TrainingPathStep(path_id=path.id, position=step.position, training_id=step.training.training.id)
                for step in planned.steps
            )
        )
        return await self.path(member, path.id)

    async def my_paths(self, member: Account, limit: int, offset: int) -> tuple[list[PathView], int]:
        rows, total = await self.repository.paths(member.id, limit, offset)
        return [await self._path_view(member, row, with_unlocked=False) for row in rows], total

    async def path(self, member: Account, path_id: uuid.UUID) -> PathView:
        path = await self.repository.path(member.id, path_id)
        if path is None:
            raise NotFound()
        return await self._path_view(member, path, with_unlocked=True)

    async def mark_done(self, member: Account, path_id: uuid.UUID, step_id: uuid.UUID) -> PathView:
        """The member completed a step's training: its skills join the profile, provenance "trained"."""
        path = await self.repository.path(member.id, path_id, lock=True)
        if path is None:
            raise NotFound()
        steps = (await self.repository.steps([path.id])).get(path.id, [])
        step = next((s for s in steps if s.id == step_id), None)
        if step is None:
            raise NotFound()
        if step.done_at is not None:
            raise Conflict("This step is already done.")
        taught_skills = (await self.repository.skills_of([step.training_id])).get(step.training_id, [])
        for taught, skill in taught_skills:
            await self.members.add_skill(
                member.id, skill.merged_into_id or skill.id, level=taught.level, years=0, origin=SkillOrigin.TRAINED
            )
        now = datetime.now(UTC)
        step.done_at = now
        if all(s.done_at is not None for s in steps):
            path.status, path.completed_at = PathStatus.COMPLETED.value, now
        return await self._path_view(member, path, with_unlocked=True)

    async def _path_view(self, member: Account, path: TrainingPath, *, with_unlocked: bool) -> PathView:
        steps = (await self.repository.steps([path.id])).get(path.id, [])
        trainings = await self.repository.trainings_by_ids([s.training_id for s in steps])
        views = {view.training.id: view for view in await self._views(list(trainings.values()))}
        explanation = path.explanation
        skill_ids = [uuid.UUID(item["skill"]) for item in explanation]
        names = await self.members.repository.skills_by_ids(skill_ids)
        needed = {uuid.UUID(item["skill"]): item["required_level"] for item in explanation}
        step_views = []
        for step in steps:
            view = views[step.training_id]
            covers = [names[s.id].slug for t, s in view.skills if s.id in needed and t.level >= needed[s.id]]
            step_views.append(StepView(step, step.position, view, covers))
        unlocked: list[UnlockedSeat] = []
        if with_unlocked:
            current = await self._levels(member.id)
            after = dict(current)
            for step_view in step_views:
                for taught, skill in step_view.training.skills:
                    target = skill.merged_into_id or skill.id
                    after[target] = max(after.get(target, 0), taught.level)
            unlocked = await self._unlocked(member, current, after)
        return PathView(
            path=path,
            mission_id=path.mission_id,
            seat_id=path.seat_id,
            optimise=path.optimise,
            method=path.method,
            steps=step_views,
            skills=[{**item, "skill": names[uuid.UUID(item["skill"])]} for item in explanation],
            uncovered=[names[uuid.UUID(i["skill"])].slug for i in explanation if i["status"] == "uncovered"],
            unlocked=unlocked,
        )

    async def _target(
        self, member: Account, request: PathRequest
    ) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, Skill], uuid.UUID | None, uuid.UUID | None]:
        if (request.mission_id is None) != (request.seat_id is None):
            raise PathTargetInvalid("Name a mission's seat with both mission_id and seat_id.")
        if request.mission_id is not None and request.skills:
            raise PathTargetInvalid("Give a mission's seat or a list of skills, not both.")
        if request.mission_id is not None and request.seat_id is not None:
            mission = await self.missions.visible(member, request.mission_id)
            if mission.status != MissionStatus.OPEN:
                raise Conflict(f"Paths lead to open missions; this one is {mission.status}.")
            seats = await self.missions.repository.seats(mission.id)
            if request.seat_id not in {seat.id for seat in seats}:
                raise InvalidInput.field("seat_id", "This mission has no such seat.")
            rows = (await self.missions.repository.seat_skills([request.seat_id])).get(request.seat_id, [])
            return (
                {row.skill_id: row.min_level for row, _ in rows},
                {s.id: s for _, s in rows},
                mission.id,
                request.seat_id,
            )
        if not request.skills:
            raise PathTargetInvalid("Give a mission's seat or at least one skill.")
        known = await self.members.repository.skills_by_ids([entry.skill_id for entry in request.skills])
        target: dict[uuid.UUID, int] = {}
        for index, entry in enumerate(request.skills):
            skill = known.get(entry.skill_id)
            if skill is None:
                raise InvalidInput.field(f"skills[{index}].skill_id", "No such skill in the référentiel.")
            target[skill.id] = max(target.get(skill.id, 0), entry.level)
        return target, {s.id: s for s in known.values()}, None, None

    async def _levels(self, member_id: uuid.UUID) -> dict[uuid.UUID, int]:
        return {row.skill_id: row.level for row, _ in await self.members.repository.profile_skills(member_id)}

    async def _unlocked(
        self, member: Account, before: Mapping[uuid.UUID, int], after: Mapping[uuid.UUID, int]
    ) -> list[UnlockedSeat]:
        """Open seats the member would meet every skill of after the path, and does not meet today."""
        if dict(before) == dict(after):
            return []
        repository = self.missions.repository
        rows = await repository.open_seats_for(member.id, listed_visibilities(member))
        seats = await repository.seats_by_ids([row.seat_id for row in rows])
        missions = await repository.missions_by_ids(list({row.mission_id for row in rows}))
        requirements = await repository.seat_skills(list(seats))
        unlocked = []
        for seat_id, seat in seats.items():
            needed = {row.skill_id: row.min_level for row, _ in requirements.get(seat_id, [])}
            if not needed:
                continue
            meets_after = all(after.get(skill, 0) >= level for skill, level in needed.items())
            meets_before = all(before.get(skill, 0) >= level for skill, level in needed.items())
            if meets_after and not meets_before:
                mission = missions[seat.mission_id]
                unlocked.append(UnlockedSeat(mission.id, mission.title, seat.id, seat.title))
        return sorted(unlocked, key=lambda u: (u.mission_title, u.seat_title, str(u.seat_id)))


def _offer(view: TrainingView) -> paths.Offer:
    training = view.training
    return paths.Offer(
        id=str(training.id),
        title=training.title,
        duration_hours=training.duration_hours,
        cost_minor=training.cost_minor,
        # A skill merged after the training was entered counts as its target, as profiles and seats do.
        teaches={str(skill.merged_into_id or skill.id): taught.level for taught, skill in view.skills},
    )


def _covers(offer: paths.Offer, result: paths.Plan, names: Mapping[uuid.UUID, Skill]) -> list[str]:
    return [names[uuid.UUID(item.skill)].slug for item in result.skills if item.by == offer.id]


def _explanation(
    item: paths.SkillPlan, names: Mapping[uuid.UUID, Skill], trainings: Mapping[str, TrainingView]
) -> dict[str, Any]:
    skill = names[uuid.UUID(item.skill)]
    if item.status == "met":
        text = f"You already have {skill.name} at level {item.current} (level {item.required} needed)."
    elif item.status == "covered" and item.by is not None:
        training = trainings[item.by].training
        text = (
            f"{skill.name}: from level {item.current} to {item.reached} with «{training.title}» "
            f"({training.provider}, {training.duration_hours} h); level {item.required} needed."
        )
    elif item.best_available:
        text = (
            f"{skill.name}: no training in the catalogue reaches level {item.required}; "
            f"the best teaches level {item.best_available}."
        )
    else:
        text = f"{skill.name}: no training in the catalogue teaches it."
    return {
        "skill": skill,
        "current_level": item.current,
        "required_level": item.required,
        "status": item.status,
        "training_id": item.by,
        "level_reached": item.reached,
        "explanation": text,
    }
