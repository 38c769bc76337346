"""The web client's wiring: its routers, middleware, error pages, templates and static files.

`create_app` mounts `web_routers(settings)` beside the API and passes `template_config()`. A feature
that brings pages later adds its controller to `PAGES` (and its links to `navigation.NAV`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Router
from litestar.config.csrf import CSRFConfig
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from app.core.rate_limit import auth_rate_limit
from app.settings import Settings
from app.web import i18n
from app.web.authentication import WebContextMiddleware
from app.web.errors import EXCEPTION_HANDLERS
from app.web.labels import label
from app.web.pages.accounts import AccountPages, AuthPages
from app.web.pages.admin import AdminPages
from app.web.pages.assemblies import AssemblyPages
from app.web.pages.dashboard import DashboardPages
from app.web.pages.missions import MissionPages
from app.web.pages.payments import PaymentPages
from app.web.pages.profiles import ProfilePages
from app.web.pages.seed import CvPages, DiagnosticPages, TrainingPages
from app.web.pages.vault import VaultPages
from app.web.session_cookie import SessionCookies

HERE = Path(__file__).parent
CSRF_COOKIE = "coop_csrf"
CSRF_HEADER = "x-csrf-token"

# Page controllers other than the rate-limited sign-in family; later features append theirs.
PAGES: list[ControllerRouterHandler] = [
    AccountPages,
    DashboardPages,
    ProfilePages,
    MissionPages,
    AssemblyPages,
    AdminPages,
    PaymentPages,
    VaultPages,
    CvPages,
    TrainingPages,
    DiagnosticPages,
]


def _csrf_secret(settings: Settings) -> str:
    return hmac.new(settings.secret_key.get_secret_value().encode(), b"coop web csrf", hashlib.sha256).hexdigest()


def _is_form_post(request: Request) -> bool:
    # Like the API's auth routes, every step of an OpenID Connect sign-in counts too.
    return request.method == "POST" or request.url.path.startswith("/sign-in/oidc/")


def web_routers(settings: Settings) -> list[Router]:
    https = settings.public_base_url.startswith("https://")
    csrf = CSRFConfig(
        secret=_csrf_secret(settings),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=https,
        cookie_samesite="lax",
        cookie_httponly=True,
    )
    # The API's auth limit, same store and same key: a browser and a script share one budget.
    limited = dataclasses.replace(auth_rate_limit(settings), check_throttle_handler=_is_form_post)
    common = {
        "include_in_schema": False,
        "exception_handlers": EXCEPTION_HANDLERS,
    }
    pages = Router(
        path="/",
        route_handlers=[
            Router(path="/", route_handlers=[AuthPages], middleware=[limited.middleware], **common),
            *PAGES,
        ],
        middleware=[DefineMiddleware(WebContextMiddleware), DefineMiddleware(CSRFMiddleware, config=csrf)],
        **common,
    )
    static = create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False)
    return [pages, static]


def web_state(settings: Settings) -> dict[str, object]:
    return {"web_cookies": SessionCookies(settings.secret_key.get_secret_value())}


def template_config() -> TemplateConfig:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=False)  # type: ignore[attr-defined]
    environment.filters.update(i18n.FILTERS)
    environment.globals.update({"_": i18n.gettext, "ngettext": i18n.ngettext, "label": label})
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
