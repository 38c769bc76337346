"""The web client's routes, read from the application itself (so pages added later are walked too)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from litestar import Litestar
from litestar.routes import HTTPRoute

_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True)
class WebRoute:
    method: str
    template: str

    def url(self) -> str:
        def fill(match: re.Match[str]) -> str:
            return str(uuid.uuid4()) if match.group(2) == "uuid" else "x"

        return _PARAMETER.sub(fill, self.template)


def web_routes(app: Litestar) -> list[WebRoute]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/api/", "/schema", "/health", "/.well-known")):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    found.append(WebRoute(method, route.path))
    return sorted(set(found), key=lambda r: (r.template, r.method))
