"""HTTP surface of the skills-from-a-CV feature: /api/v1/me/cv-extractions."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import admitted_member
from app.core.problems import problems
from app.core.schemas import Limit, Offset, Page
from app.cv.schemas import CvUpload, DecisionInput, EvidenceOut, ExtractionOut, SkillRef, SuggestionOut
from app.cv.service import CvService, ExtractionView
from app.models import Account, CvSuggestion, Skill

# The route's own body limit (the file plus the multipart envelope); the service enforces the
# configured file size (COOP_CV_MAX_BYTES), which must stay below it.
MAX_UPLOAD_BODY = 8 * 1024 * 1024


def suggestion_out(suggestion: CvSuggestion, skill: Skill) -> SuggestionOut:
    return SuggestionOut(
        id=suggestion.id,
        skill=SkillRef(id=skill.id, slug=skill.slug, name=skill.name, category=skill.category),
        confidence=suggestion.confidence / 100,
        evidence=EvidenceOut(
            sentence=suggestion.evidence,
            matched=list(suggestion.matched),
            match_kind=suggestion.match_kind,  # type: ignore[arg-type]
        ),
        years=suggestion.years,
        suggested_level=suggestion.suggested_level,
        decision=suggestion.decision,  # type: ignore[arg-type]
        decided_at=suggestion.decided_at,
    )


def extraction_out(view: ExtractionView) -> ExtractionOut:
    extraction = view.extraction
    return ExtractionOut(
        id=extraction.id,
        file_kind=extraction.file_kind,  # type: ignore[arg-type]
        file_bytes=extraction.file_bytes,
        characters=extraction.characters,
        language=extraction.language,
        created_at=extraction.created_at,
        suggestions=[suggestion_out(suggestion, skill) for suggestion, skill in view.suggestions],
    )


class CvExtractionsController(Controller):
    """A member's CVs, read once: suggested skills with their evidence, which the member accepts or rejects."""

    path = "/api/v1/me/cv-extractions"
    tags = ["skills from a CV"]
    guards = [admitted_member]

    @post(
        request_max_body_size=MAX_UPLOAD_BODY,
        summary="Upload a CV (PDF, DOCX, ODT or UTF-8 text): skills of the référentiel it evidences, as suggestions",
        description=(
            "Multipart form with a `file` field. The type is read from the content, never from the name. "
            "Macros, zip bombs, PDF bombs and oversized files are refused with a problem document and nothing is "
            "stored. The file is discarded once its text is extracted; only the suggestions and the sentence "
            "evidencing each are kept, until the member deletes the extraction."
        ),
        responses=problems(400, 401, 403, 409, 413, 415, 422),
    )
    async def upload(
        self,
        data: Annotated[CvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
    ) -> ExtractionOut:
        content = await data.file.read(cvs.max_bytes + 1)
        await data.file.close()
        return extraction_out(await cvs.analyse(current_account, content, keep_file=data.keep_file))

    @get(summary="Your CV extractions, newest first, with their suggestions", responses=problems(401, 403))
    async def list_extractions(
        self,
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[ExtractionOut]:
        views, total = await cvs.extractions(current_account, limit, offset)
        return Page(items=[extraction_out(view) for view in views], total=total, limit=limit, offset=offset)

    @get("/{extraction_id:uuid}", summary="One of your CV extractions", responses=problems(401, 403, 404))
    async def get_extraction(
        self,
        extraction_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
    ) -> ExtractionOut:
        return extraction_out(await cvs.get(current_account, extraction_id))

    @delete(
        "/{extraction_id:uuid}",
        summary="Delete an extraction and its evidence sentences (accepted skills stay on your profile)",
        responses=problems(401, 403, 404),
    )
    async def delete_extraction(
        self,
        extraction_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
    ) -> None:
        await cvs.forget(current_account, extraction_id)

    @post(
        "/{extraction_id:uuid}/suggestions/{suggestion_id:uuid}/decision",
        status_code=HTTP_200_OK,
        summary="Accept a suggestion (the skill joins your profile, provenance from_cv) or reject it",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def decide(
        self,
        extraction_id: FromPath[uuid.UUID],
        suggestion_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionInput],
        current_account: NamedDependency[Account],
        cvs: NamedDependency[CvService],
    ) -> SuggestionOut:
        suggestion, skill = await cvs.decide(
            current_account,
            extraction_id,
            suggestion_id,
            accept=data.decision == "accept",
            level=data.level,
            years=data.years,
        )
        return suggestion_out(suggestion, skill)
