"""Checks every API request passes before its parameters are parsed: what it sends must be what the
operation documents.

Owns three refusals, each a problem document like any other: a body that is not JSON (415, not a
misleading "JSON is malformed"), a query parameter the operation does not know (400
`validation-error`, as an unknown body field is), and a missing body (400, naming the body the
operation expects). Never looks at what the values mean: that is the schemas' and services' job.
"""

from __future__ import annotations

import weakref
from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType

from app.core.errors import AppError, InvalidInput

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Routes whose query string is written by someone else (an identity provider's redirect adds
# `iss`, `session_state`...) opt out with this key in their `opt`.
ALLOW_UNKNOWN_QUERY = "allow_unknown_query"
# Routes that take a form body by standard (RFC 8058's one-click unsubscribe) opt out of the 415.
ACCEPTS_FORM = "accepts_form"


class UnsupportedMediaType(AppError):
    status_code = 415
    slug = "unsupported-media-type"
    title = "The request body's media type is not supported"


# Keyed by the handler object itself (weakly): every app built (tests build many) has its own.
_known_query: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()


def _query_names(request: Request[Any, Any, Any]) -> frozenset[str]:
    handler = request.route_handler
    names = _known_query.get(handler)
    if names is None:
        model = handler.create_kwargs_model(path_parameters=dict.fromkeys(request.path_params))  # type: ignore[arg-type]
        # Dependencies' own query parameters are merged into the handler's by Litestar.
        names = frozenset(param.field_alias for param in model.expected_query_params)
        _known_query[handler] = names
    return names


def _body_name(request: Request[Any, Any, Any]) -> str | None:
    """The name of the body type the operation expects, or None when it takes no required body."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None or data.is_optional:
        return None
    inner = data.annotation
    return getattr(inner, "__name__", None) or "JSON"


def _takes_non_json_body(request: Request[Any, Any, Any]) -> bool:
    """An operation that declares a multipart or form body (a file upload) is not held to JSON."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    media_type = getattr(getattr(data, "kwarg_definition", None), "media_type", None)
    return media_type is not None and media_type != RequestEncodingType.JSON


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def check_request(request: Request[Any, Any, Any]) -> None:
    # The scope's path, not `request.url`: building the URL object costs more than this whole check.
    if not request.scope["path"].startswith("/api/"):
        return
    if not request.route_handler.opt.get(ALLOW_UNKNOWN_QUERY):
        known = _query_names(request)
        unknown = sorted({name for name in request.query_params if name not in known})
        if unknown:
            raise InvalidInput(
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)[:200]}.",
                errors=[
                    {"field": name[:100], "message": "unknown query parameter", "source": "query"}
                    for name in unknown[:20]
                ],
            )
    if request.method not in BODY_METHODS:
        return
    content_type = request.headers.get("content-type")
    body_name = _body_name(request)
    if _takes_non_json_body(request):
        return
    accepts_form = request.route_handler.opt.get(ACCEPTS_FORM)
    if content_type and not _is_json(content_type) and not accepts_form and (body_name or await request.body()):
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type.split(';')[0][:80]}.")
    if body_name is not None and not (await request.body()).strip():
        raise InvalidInput(
            f"This operation needs a JSON body ({body_name}); none was sent.",
            errors=[{"field": "body", "message": f"missing JSON body: {body_name}", "source": "body"}],
        )
