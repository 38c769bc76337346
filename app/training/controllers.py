"""HTTP surface of the training-paths feature: /api/v1/trainings (the catalogue), /api/v1/me/training-paths."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import admin_only, admitted_member
from app.core.problems import problems
from app.core.schemas import SINGLE_LINE, Limit, Offset, Page
from app.models import Account
from app.training.schemas import (
    CatalogueImportInput,
    ImportOut,
    PathRequest,
    PlanOut,
    SkillPlanOut,
    SkillRef,
    StepOut,
    TaughtSkillOut,
    TrainingInput,
    TrainingOut,
    UnlockedSeatOut,
)
from app.training.service import PathView, TrainingService, TrainingView


def training_out(view: TrainingView) -> TrainingOut:
    training = view.training
    return TrainingOut(
        id=training.id,
        reference=training.reference,
        title=training.title,
        provider=training.provider,
        description=training.description,
        duration_hours=training.duration_hours,
        cost_minor=training.cost_minor,
        currency=training.currency,
        format=training.format,
        place=training.place,
        cpf_eligible=training.cpf_eligible,
        active=training.active,
        skills=[
            TaughtSkillOut(skill=SkillRef(id=skill.id, slug=skill.slug, name=skill.name), level=taught.level)
            for taught, skill in view.skills
        ],
        updated_at=training.updated_at,
    )


def plan_out(view: PathView) -> PlanOut:
    path = view.path
    return PlanOut(
        id=path.id if path else None,
        status=path.status if path else "planned",  # type: ignore[arg-type]
        mission_id=view.mission_id,
        seat_id=view.seat_id,
        optimise=view.optimise,
        method=view.method,  # type: ignore[arg-type]
        total_hours=sum(step.training.training.duration_hours for step in view.steps),
        total_cost_minor=sum(step.training.training.cost_minor for step in view.steps),
        currency="EUR",
        steps=[
            StepOut(
                id=step.step.id if step.step else None,
                position=step.position,
                training=training_out(step.training),
                covers=step.covers,
                done_at=step.step.done_at if step.step else None,
            )
            for step in view.steps
        ],
        skills=[
            SkillPlanOut(
                skill=SkillRef(id=item["skill"].id, slug=item["skill"].slug, name=item["skill"].name),
                current_level=item["current_level"],
                required_level=item["required_level"],
                status=item["status"],
                training_id=uuid.UUID(item["training_id"]) if item["training_id"] else None,
                level_reached=item["level_reached"],
                explanation=item["explanation"],
            )
            for item in view.skills
        ],
        uncovered=view.uncovered,
        missions_unlocked=[
            UnlockedSeatOut(
                mission_id=u.mission_id, mission_title=u.mission_title, seat_id=u.seat_id, seat_title=u.seat_title
            )
            for u in view.unlocked
        ],
        created_at=path.created_at if path else None,
    )


class TrainingsController(Controller):
    """The training catalogue: public to read; administrators import and edit it."""

    path = "/api/v1/trainings"
    tags = ["training paths"]

    @get(summary="Search the training catalogue", responses=problems(400, 401))
    async def list_trainings(
        self,
        trainings: NamedDependency[TrainingService],
        skill: Annotated[
            str | None, QueryParameter(min_length=1, max_length=120, pattern=SINGLE_LINE, description="Slug or name")
        ] = None,
        cpf_eligible: Annotated[bool | None, QueryParameter(description="Only CPF-eligible (or not)")] = None,
        format: Annotated[Literal["on_site", "remote", "hybrid"] | None, QueryParameter()] = None,
        include_inactive: Annotated[bool, QueryParameter(description="Withdrawn trainings too")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TrainingOut]:
        views, total = await trainings.catalogue(
            skill=skill, cpf=cpf_eligible, format=format, include_inactive=include_inactive, limit=limit, offset=offset
        )
        return Page(items=[training_out(view) for view in views], total=total, limit=limit, offset=offset)

    @get("/{training_id:uuid}", summary="One training", responses=problems(401, 404))
    async def get_training(
        self, training_id: FromPath[uuid.UUID], trainings: NamedDependency[TrainingService]
    ) -> TrainingOut:
        return training_out(await trainings.training(training_id))

    @post(guards=[admin_only], summary="Add a training (administrators)", responses=problems(400, 401, 403, 409, 413))
    async def create_training(
        self, data: JSONBody[TrainingInput], trainings: NamedDependency[TrainingService]
    ) -> TrainingOut:
        return training_out(await trainings.create(data))

    @put(
        "/{training_id:uuid}",
        guards=[admin_only],
        summary="Replace a training (administrators); `active: false` withdraws it from new paths",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def replace_training(
        self,
        training_id: FromPath[uuid.UUID],
        data: JSONBody[TrainingInput],
        trainings: NamedDependency[TrainingService],
    ) -> TrainingOut:
        return training_out(await trainings.replace(training_id, data))

    @post(
        "/import",
        status_code=HTTP_200_OK,
        guards=[admin_only],
        summary="Import the catalogue from CSV (administrators): all lines or none; see docs/seed-services.md",
        responses=problems(400, 401, 403, 413, 422),
    )
    async def import_catalogue(
        self, data: JSONBody[CatalogueImportInput], trainings: NamedDependency[TrainingService]
    ) -> ImportOut:
        created, updated = await trainings.import_csv(data.csv)
        return ImportOut(created=created, updated=updated)


class TrainingPathsController(Controller):
    """A member's gap toward a seat or skills, the path that closes it, and following that path."""

    path = "/api/v1/me/training-paths"
    tags = ["training paths"]
    guards = [admitted_member]

    @post(
        "/plan",
        status_code=HTTP_200_OK,
        summary="Plan a path (not saved): the gap, the trainings closing it at least duration or cost, skill by skill",
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def plan(
        self,
        data: JSONBody[PathRequest],
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
    ) -> PlanOut:
        return plan_out(await trainings.plan(current_account, data))

    @post(
        summary="Follow a path: plan it and keep it, to mark its steps done",
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def follow(
        self,
        data: JSONBody[PathRequest],
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
    ) -> PlanOut:
        return plan_out(await trainings.follow(current_account, data))

    @get(summary="Your paths, newest first", responses=problems(401, 403))
    async def my_paths(
        self,
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[PlanOut]:
        views, total = await trainings.my_paths(current_account, limit, offset)
        return Page(items=[plan_out(view) for view in views], total=total, limit=limit, offset=offset)

    @get("/{path_id:uuid}", summary="One of your paths, with the missions it opens", responses=problems(401, 403, 404))
    async def get_path(
        self,
        path_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
    ) -> PlanOut:
        return plan_out(await trainings.path(current_account, path_id))

    @post(
        "/{path_id:uuid}/steps/{step_id:uuid}/done",
        status_code=HTTP_200_OK,
        summary="Mark a step done: the training's skills join your profile with provenance trained",
        responses=problems(401, 403, 404, 409),
    )
    async def mark_done(
        self,
        path_id: FromPath[uuid.UUID],
        step_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        trainings: NamedDependency[TrainingService],
    ) -> PlanOut:
        return plan_out(await trainings.mark_done(current_account, path_id, step_id))
