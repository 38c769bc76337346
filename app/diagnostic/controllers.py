"""HTTP surface of the needs diagnostic: /api/v1/diagnostic (the questionnaire, results, claims, posting)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import signed_in
from app.core.problems import problems
from app.diagnostic.schemas import (
    AnswerOption,
    ClaimInput,
    DiagnosticInput,
    PostedOut,
    QuestionnaireOut,
    QuestionOut,
    ResultOut,
)
from app.diagnostic.service import DiagnosticService, ResultView, answers_of
from app.members.guards import client_or_admitted_member
from app.missions.schemas import MissionInput
from app.models import Account


def result_out(view: ResultView) -> ResultOut:
    result = view.result
    return ResultOut(
        id=result.id,
        questionnaire_version=result.questionnaire_version,
        answers={question: list(chosen) for question, chosen in result.answers.items()},
        draft=view.draft,
        claimed=result.owner_id is not None,
        claim_token=view.claim_token,
        claim_expires_at=result.claim_expires_at if view.claim_token else None,
        mission_id=result.mission_id,
        created_at=result.created_at,
    )


class DiagnosticController(Controller):
    """A questionnaire for clients; its answers draft a mission, each element saying which answers produced it."""

    path = "/api/v1/diagnostic"
    tags = ["needs diagnostic"]

    @get(summary="The questionnaire (anyone, signed in or not)", responses=problems(401))
    async def questionnaire(self, diagnostics: NamedDependency[DiagnosticService]) -> QuestionnaireOut:
        questionnaire = diagnostics.questionnaire()
        return QuestionnaireOut(
            version=questionnaire.version,
            title=questionnaire.title,
            intro=questionnaire.intro,
            questions=[
                QuestionOut(
                    id=q.id,
                    text=q.text,
                    kind=q.kind,  # type: ignore[arg-type]
                    answers=[AnswerOption(id=a.id, text=a.text) for a in q.answers],
                )
                for q in questionnaire.questions
            ],
        )

    @post(
        "/results",
        summary="Take the diagnostic: the draft mission the answers produce",
        description=(
            "Anyone may take it. Signed in, the result is yours at once; anonymous, the answer carries a "
            "single-use `claim_token` (7 days): sign up or in, then POST it to /results/claim to keep the result."
        ),
        responses=problems(400, 401, 413),
    )
    async def take(
        self,
        data: JSONBody[DiagnosticInput],
        viewer: NamedDependency[Account | None],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> ResultOut:
        return result_out(await diagnostics.take(viewer, answers_of(data.answers)))

    @post(
        "/results/claim",
        status_code=HTTP_200_OK,
        guards=[signed_in],
        summary="Keep a result taken anonymously, with its claim token",
        responses=problems(400, 401, 413),
    )
    async def claim(
        self,
        data: JSONBody[ClaimInput],
        current_account: NamedDependency[Account],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> ResultOut:
        return result_out(await diagnostics.claim(current_account, data.token))

    @get("/results/{result_id:uuid}", guards=[signed_in], summary="One of your results", responses=problems(401, 404))
    async def get_result(
        self,
        result_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> ResultOut:
        return result_out(await diagnostics.get(current_account, result_id))

    @post(
        "/results/{result_id:uuid}/mission",
        guards=[client_or_admitted_member],
        summary="Post the edited draft as a mission (a draft mission, as POST /api/v1/missions makes)",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def post_mission(
        self,
        result_id: FromPath[uuid.UUID],
        data: JSONBody[MissionInput],
        current_account: NamedDependency[Account],
        diagnostics: NamedDependency[DiagnosticService],
    ) -> PostedOut:
        mission_id, status = await diagnostics.post_mission(current_account, result_id, data)
        return PostedOut(result_id=result_id, mission_id=mission_id, mission_status=status)
