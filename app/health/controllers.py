"""Liveness and readiness probes, and the public keys that verify our access tokens."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State

from app import __version__


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str
    version: str
    database: str | None = None
    reason: str | None = None  # why the process is not ready, for operators


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"exclude_from_auth": True}

    @get("/live", summary="The process is up")
    async def live(self) -> Health:
        return Health(status="ok", version=__version__)

    @get("/ready", summary="The process can serve: the database answers (503 with the reason otherwise)")
    async def ready(self, state: State) -> Response[Health]:
        reason = await state.database.readiness()
        if reason is not None:
            return Response(
                Health(status="unavailable", version=__version__, database="down", reason=reason),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return Response(Health(status="ok", version=__version__, database="up"))


class KeysController(Controller):
    path = "/.well-known"
    tags = ["auth"]
    opt = {"exclude_from_auth": True}

    @get("/jwks.json", summary="Public keys (JWKS) that verify the API's access tokens")
    async def jwks(self, state: State) -> dict[str, Any]:
        return state.signing_keys.public_jwks()
