"""OpenAPI documentation of problem responses, so every route lists the errors it can return."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from app.core.errors import PROBLEM_MEDIA_TYPE


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str
    source: str | None = None


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


_DESCRIPTIONS = {
    400: "Malformed or invalid request (problem type `urn:coop:problem:validation-error` or `bad-request`)",
    401: "Not signed in, or the credentials or token are invalid",
    403: "Signed in, but not allowed to do this",
    404: "No such resource, or not visible to you",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Well-formed but refused by a domain rule",
    429: "Rate limited; see the Retry-After header",
    502: "An upstream service (identity provider, mail) failed",
}


def problems(*status_codes: int) -> dict[int, ResponseSpec]:
    """The problem responses of an operation. 400 is always listed: any request can be malformed,
    and Litestar would otherwise document its own non-problem 400 body for operations with parameters."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(code, "Error"),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for code in sorted({400, *status_codes})
    }


def merge(*specs: dict[int, ResponseSpec]) -> dict[int, Any]:
    merged: dict[int, Any] = {}
    for spec in specs:
        merged.update(spec)
    return merged
