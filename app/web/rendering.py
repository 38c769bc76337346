"""Turning a page's data into a response: the shared template context, flashes, form errors.

Form errors are raised (`FormRejected`), never returned: the request's unit of work then rolls back
whatever the service wrote before it refused, and the web router's handler renders the form again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from app.core.errors import AppError
from app.models import Account
from app.web.i18n import DEFAULT_LOCALE, LOCALES, N_, current_locale, gettext
from app.web.labels import LABELS
from app.web.navigation import nav_for

FLASH_COOKIE = "coop_flash"
DETAIL = "detail"  # the key of a service's reason, shown in the error summary in its own language

# Flash messages are keys, never free text from a request: nothing a link can inject.
FLASHES: Mapping[str, str] = {
    "signed-in": N_("You are signed in."),
    "signed-out": N_("You are signed out."),
    "registered": N_("Your account is created. We sent you a mail: open its link to confirm your address."),
    "verified": N_("Your email address is confirmed."),
    "verification-sent": N_("We sent you a new confirmation mail."),
    "reset-requested": N_("If an account uses this address, we sent it a mail with a link to choose a new password."),
    "password-reset": N_("Your password is changed. Every session was ended: sign in with the new password."),
    "saved": N_("Saved."),
    "session-ended": N_("The session is ended."),
    "published": N_("Your profile is published."),
    "unpublished": N_("Your profile is withdrawn."),
    "mission-created": N_("The mission is saved."),
    "applied": N_("Your application is sent."),
    "done": N_("Done."),
    "ballot-cast": N_("Your ballot is recorded. Keep your receipt."),
    "admitted": N_("The member's status is changed."),
    "cv-read": N_("Your CV is read: review the suggested skills below."),
    "cv-forgotten": N_("The CV and its evidence sentences are deleted."),
    "path-followed": N_("You follow this path: mark each training once completed."),
    "organisation-verified": N_("The organisation is verified: its missions can be shown to the public."),
}


@dataclass
class FormRejected(Exception):
    """Render `template` again with the submitted values and the errors, at `status`."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After on a 429


# Form fields named differently from the schemas' (amounts are typed in major units).
FORM_NAMES = {
    "day_rate_min_minor": "day_rate_min",
    "day_rate_max_minor": "day_rate_max",
    "budget_amount_minor": "budget_amount",
    "proposed_day_rate_minor": "proposed_day_rate",
}


def field_errors(error: AppError | msgspec.ValidationError) -> tuple[str, dict[str, str]]:
    """A summary and per-field messages, from a service error or a schema refusal."""
    if isinstance(error, msgspec.ValidationError):
        message = str(error)
        path = message.rpartition("at `$.")[2].rstrip("`") if "at `$." in message else ""
        name = path.split("[")[0].split(".")[0]
        return gettext("Some fields need your attention."), {
            FORM_NAMES.get(name, name) or "_": message.split(" - at ")[0]
        }
    errors: dict[str, str] = {}
    for item in error.errors or []:
        name = str(item.get("field", "_")).split("[")[0].split(".")[0]
        errors.setdefault(FORM_NAMES.get(name, name), str(item.get("message", "")))
    if not errors and error.detail and error.detail != error.title:
        # The service's own reason (written in English for the API): the page marks its language.
        errors[DETAIL] = error.detail
    return problem_title(error), errors


def problem_title(error: AppError) -> str:
    """The translated title of a problem type; its English detail when the catalogue has no entry."""
    known = LABELS["problem"].get(error.slug)
    return gettext(known) if known else error.detail


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """Only paths of this site: an open redirect would make our sign-in page a phishing tool."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(path: str, flash: str | None = None) -> Redirect:
    cookies = [Cookie(key=FLASH_COOKIE, value=flash, max_age=60, httponly=True, samesite="lax")] if flash else []
    return Redirect(path=path, status_code=303, cookies=cookies)


def use_request_locale(request: Request) -> str:
    """Error pages render after the web middleware has returned: the language must follow them."""
    locale = request.scope.get("state", {}).get("locale", DEFAULT_LOCALE)
    current_locale.set(locale)
    return locale


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> Template:
    user: Account | None = request.scope.get("user")
    locale = use_request_locale(request)
    flash_key = request.cookies.get(FLASH_COOKIE)
    cookies = [Cookie(key=FLASH_COOKIE, value="", max_age=0)] if flash_key else []
    base = {
        "user": user,
        "locale": locale,
        "locales": LOCALES,
        "nav": nav_for(user),
        "flash": gettext(FLASHES[flash_key]) if flash_key in FLASHES else None,
        "errors": {},
        "summary": "",
        "values": {},
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    return Template(template_name=template, context={**base, **context}, status_code=status, cookies=cookies)
