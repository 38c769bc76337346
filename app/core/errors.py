"""Domain errors and their RFC 9457 problem documents.

Services raise `AppError` subclasses that know nothing of HTTP beyond a status hint; the handlers
below turn them, Litestar's own exceptions and anything unexpected into `application/problem+json`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import IntegrityError

from app.db.resilience import is_outage

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:coop:problem:"

log = structlog.get_logger(__name__)


class AppError(Exception):
    """Base of every error a client may cause; `slug` makes the stable problem `type`."""

    status_code: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "The request cannot be processed"
    # Most errors roll the request's transaction back; a few must keep what was written first
    # (revoking a session on refresh-token reuse, for instance).
    keeps_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers: dict[str, str] | None = None  # e.g. Retry-After on a 429

    @classmethod
    def problem_type(cls) -> str:
        return PROBLEM_BASE + cls.slug


class InvalidInput(AppError):
    status_code = 400
    slug = "validation-error"
    title = "The request body or parameters are invalid"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(message, errors=[{"field": field, "message": message}])


class NotAuthenticated(AppError):
    status_code = 401
    slug = "not-authenticated"
    title = "Authentication is required"


class InvalidCredentials(AppError):
    status_code = 401
    slug = "invalid-credentials"
    title = "The email or password is wrong"


class InvalidToken(AppError):
    status_code = 401
    slug = "invalid-token"
    title = "The token is invalid, expired or already used"


class RefreshTokenReused(InvalidToken):
    keeps_changes = True


class Forbidden(AppError):
    status_code = 403
    slug = "forbidden"
    title = "You are not allowed to do this"


class EmailNotVerified(Forbidden):
    slug = "email-not-verified"
    title = "This needs a verified email address"


class NotFound(AppError):
    status_code = 404
    slug = "not-found"
    title = "No such resource"


class Conflict(AppError):
    status_code = 409
    slug = "conflict"
    title = "The request conflicts with the current state"


class EmailTaken(Conflict):
    slug = "email-taken"
    title = "An account with this email already exists"


class EmailLookalike(Conflict):
    slug = "email-lookalike"
    title = "An account with an address that looks the same already exists"


class WeakPassword(AppError):
    status_code = 422
    slug = "weak-password"
    title = "The password is too weak"


class ProviderUnavailable(AppError):
    status_code = 502
    slug = "identity-provider-error"
    title = "The identity provider could not complete the sign-in"


# Litestar's own exceptions, by status code, mapped to stable slugs.
_HTTP_SLUGS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request is malformed"),
    401: ("not-authenticated", "Authentication is required"),
    403: ("forbidden", "You are not allowed to do this"),
    404: ("not-found", "No such resource"),
    405: ("method-not-allowed", "This method is not allowed on this resource"),
    406: ("not-acceptable", "No acceptable representation"),
    409: ("conflict", "The request conflicts with the current state"),
    413: ("payload-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "The request body's media type is not supported"),
    429: ("rate-limited", "Too many requests: slow down"),
    503: ("service-unavailable", "The service is temporarily unavailable"),
}

# How long a client should wait before retrying while the database is unreachable: about what a
# PostgreSQL restart or a failover takes.
DATABASE_RETRY_AFTER_SECONDS = 5


def problem_response(
    *,
    status: int,
    type_: str,
    title: str,
    detail: str | None,
    request: Request | None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def app_error_handler(request: Request, exc: AppError) -> Response[dict[str, Any]]:
    return problem_response(
        status=exc.status_code,
        type_=exc.problem_type(),
        title=exc.title,
        detail=exc.detail,
        request=request,
        errors=exc.errors,
        headers=exc.headers,
    )


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key") or "body",
                    "message": str(item.get("message", "invalid value"))[:300],
                    "source": item.get("source") or "body",
                }
            )
    return errors


def http_exception_handler(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        return internal_error_handler(request, exc)
    if isinstance(exc, ValidationException) or (status == 400 and exc.extra):
        slug, title = "validation-error", "The request body or parameters are invalid"
        errors = _validation_errors(exc) if isinstance(exc, ValidationException) else None
        detail = _safe_detail(exc.detail)
    else:
        slug, title = _HTTP_SLUGS.get(status, ("client-error", "The request cannot be processed"))
        errors = None
        detail = _safe_detail(exc.detail) if status != 404 else None
    return problem_response(
        status=status,
        type_=PROBLEM_BASE + slug,
        title=title,
        detail=detail,
        request=request,
        errors=errors,
        headers=exc.headers,
    )


def _safe_detail(detail: str) -> str | None:
    # Litestar details sometimes echo parser internals; keep them short and single-line.
    if not detail:
        return None
    return detail.splitlines()[0][:300]


_DECODER_MODULE = "litestar.serialization.msgspec_hooks"


def _raised_decoding_the_body(exc: Exception) -> bool:
    """Litestar lets a few decoder errors escape (bytes that are not UTF-8, JSON nested too deep)."""
    if not isinstance(exc, UnicodeDecodeError | RecursionError):
        return False
    frame = exc.__traceback__
    while frame is not None:
        code = frame.tb_frame.f_code
        if frame.tb_frame.f_globals.get("__name__") == _DECODER_MODULE and code.co_name.startswith("decode_"):
            return True
        frame = frame.tb_next
    return False


def internal_error_handler(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if _raised_decoding_the_body(exc):
        return problem_response(
            status=400,
            type_=PROBLEM_BASE + "bad-request",
            title=_HTTP_SLUGS[400][1],
            detail="The request body is not valid JSON (bad UTF-8, or nested too deep).",
            request=request,
        )
    if is_outage(exc):
        return database_unavailable(request, exc)
    log.error("unhandled error", exc_info=exc, path=request.url.path)
    return problem_response(
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        type_=PROBLEM_BASE + "internal-error",
        title="Something went wrong on our side",
        detail="The error was logged with this request's id.",
        request=request,
    )


def database_unavailable(request: Request | None, exc: BaseException) -> Response[dict[str, Any]]:
    """The database is restarting, unreachable or out of connections: a retryable 503, never a 500.
    The request's transaction died with its connection: nothing of it was acknowledged."""
    log.warning("database unavailable", path=request.url.path if request else None, error=type(exc).__name__)
    slug, title = _HTTP_SLUGS[503]
    return problem_response(
        status=503,
        type_=PROBLEM_BASE + slug,
        title=title,
        detail="The database cannot be reached right now; retry after the delay in Retry-After.",
        request=request,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def integrity_error_handler(request: Request, exc: IntegrityError) -> Response[dict[str, Any]]:
    """A unique or foreign-key violation that a service's own check did not catch (two requests
    racing on the same email, for instance) is a conflict, not a server error."""
    log.info("integrity error answered as a conflict", path=request.url.path, error=type(exc.orig).__name__)
    return problem_response(
        status=409,
        type_=Conflict.problem_type(),
        title=Conflict.title,
        detail="The request conflicts with data that already exists.",
        request=request,
    )


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    AppError: app_error_handler,
    IntegrityError: integrity_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
