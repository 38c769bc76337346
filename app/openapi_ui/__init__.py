"""The interactive API docs (Scalar at /schema, Swagger UI at /schema/swagger) served from pinned,
vendored assets: no script, style sheet, font or icon comes from a CDN, so the docs work offline.

Owns the render plugins' configuration and the static route of the assets (versions and licences in
`assets/VENDORED.md`). Never renders anything itself: Litestar's plugins do.
"""

from __future__ import annotations

from pathlib import Path

from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

ASSETS = Path(__file__).parent / "assets"
# Under /schema: outside authentication and the API's strict content security policy.
ASSETS_PATH = "/schema/assets"
VERSIONS = {"@scalar/api-reference": "1.76.0", "swagger-ui-dist": "5.35.0"}
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/swagger/favicon-32x32.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [
        ScalarRenderPlugin(
            js_url=f"{ASSETS_PATH}/scalar/standalone.js",
            css_url=f"{ASSETS_PATH}/scalar/coop.css",
            favicon=FAVICON,
            # Scalar would otherwise fetch its fonts from its own servers.
            options={"withDefaultFonts": False},
        ),
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{ASSETS_PATH}/swagger/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
    ]


def assets_router() -> ControllerRouterHandler:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        name="openapi-assets",
    )
