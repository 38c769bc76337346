"""The digest loop every server process runs: at each tick, the digests that are due go out.

Several processes may run it: a member's waiting events are locked while their digest is sent
(`FOR UPDATE SKIP LOCKED`), so nobody gets the same digest twice. Never decides what a digest says
(the service does).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from litestar.datastructures import State

from app.db.engine import Database
from app.notifications.digests import send_digests

log = structlog.get_logger(__name__)


@asynccontextmanager
async def notifications_lifespan(state: State, database: Database) -> AsyncIterator[None]:
    settings = state.settings

    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.digest_check_seconds)
            try:
                await send_digests(database.sessionmaker, settings, state.mailer)
            except Exception:  # the loop outlives a bad round; the next tick tries again
                log.exception("digest round failed")

    task = asyncio.create_task(loop(), name="notification-digests")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
