"""Errors on web routes answer with pages, not problem documents (the API keeps those).

A visitor who must sign in is sent to the sign-in page and back; a refused form is shown again with
its errors; anything else gets a page saying what happened, in the visitor's language, with the
same status code the API would answer.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException

from app.core.errors import AppError, InvalidCredentials, NotAuthenticated, http_exception_handler
from app.web.authentication import WEB_CSP
from app.web.i18n import LOCALE_COOKIE, N_, choose_locale, gettext
from app.web.rendering import FormRejected, page, problem_title, use_request_locale

log = structlog.get_logger(__name__)

_STATUS_TITLES = {
    400: N_("The request cannot be processed."),
    401: N_("Sign in to see this page."),
    403: N_("You are not allowed to see this page."),
    404: N_("This page does not exist, or you may not see it."),
    405: N_("This page does not accept this request."),
    409: N_("This conflicts with the current state."),
    413: N_("What you sent is too large."),
    429: N_("Too many attempts: wait a minute and try again."),
}


def _error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = page(request, "error.html", status=status, message=message)
    if headers:
        response.headers.update(headers)
    return response  # type: ignore[return-value]


def form_rejected(request: Request, error: FormRejected) -> Response:
    use_request_locale(request)
    response = page(
        request,
        error.template,
        status=error.status,
        errors=error.errors,
        summary=error.summary or gettext("Some fields need your attention."),
        **error.context,
    )
    response.headers.update(error.headers)
    return response  # type: ignore[return-value]


def app_error(request: Request, error: AppError) -> Response:
    use_request_locale(request)
    if isinstance(error, NotAuthenticated) and request.method == "GET":
        return Response(
            content=None, status_code=303, headers={"location": "/sign-in?next=" + quote(_here(request), safe="/")}
        )
    if isinstance(error, NotAuthenticated) or (error.status_code == 401 and not isinstance(error, InvalidCredentials)):
        return _error_page(request, 401, gettext(_STATUS_TITLES[401]))
    return _error_page(request, error.status_code, problem_title(error))


def http_error(request: Request, error: HTTPException) -> Response:
    use_request_locale(request)
    status = error.status_code
    if isinstance(error, PermissionDeniedException) and "CSRF" in str(error.detail):
        return _error_page(request, 403, gettext("This form has expired. Go back, reload the page and send it again."))
    headers = {name: value for name, value in (error.headers or {}).items() if name.lower() == "retry-after"}
    return _error_page(request, status, gettext(_STATUS_TITLES.get(status, _STATUS_TITLES[400])), headers)


def unexpected(request: Request, error: Exception) -> Response:
    use_request_locale(request)
    log.exception("unexpected error on a web page", path=request.url.path)
    return _error_page(request, 500, gettext("Something went wrong on our side. Try again in a moment."))


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


_NOT_PAGES = ("/api/", "/schema", "/health", "/.well-known/", "/static/")


def unrouted(request: Request, error: NotFoundException) -> Response:
    """An address no route matches: a page for a browser, the API's problem document for anything else."""
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    if not wants_page or request.url.path.startswith(_NOT_PAGES):
        return http_exception_handler(request, error)
    request.scope.setdefault("state", {})["locale"] = choose_locale(
        request.cookies.get(LOCALE_COOKIE), request.headers.get("accept-language")
    )
    use_request_locale(request)
    response = _error_page(request, 404, gettext(_STATUS_TITLES[404]))
    response.headers["content-security-policy"] = WEB_CSP  # outside the web router: its middleware did not run
    return response


# Mounted on the application, beside the API's handlers: only unrouted addresses reach it.
UNROUTED_HANDLERS = {NotFoundException: unrouted}

EXCEPTION_HANDLERS = {
    FormRejected: form_rejected,
    AppError: app_error,
    HTTPException: http_error,
    Exception: unexpected,
}
