"""The payments loop every server process runs: apply the webhook inbox, release escrow that is due.

Events are claimed in batches with `FOR UPDATE SKIP LOCKED` and each is applied, in its own savepoint,
in the transaction that marks it processed: several processes share the inbox and each event takes
effect exactly once. An event
whose processing fails is retried on later ticks (5 attempts), its error kept for the operator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import structlog

from app.db.engine import Database
from app.db.transaction import UnitOfWork
from app.payments.gateway import Gateway
from app.payments.service import PaymentsService
from app.settings import Settings

log = structlog.get_logger(__name__)

BATCH_SIZE = 100
KICK_DEBOUNCE_SECONDS = 0.02


class PaymentsWorker:
    def __init__(self, database: Database, settings: Settings, gateway: Gateway | None) -> None:
        self._database = database
        self._settings = settings
        self._gateway = gateway
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="payments-background")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        next_release = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.payments_tick_seconds)
            if self._wake.is_set():
                # Woken by a delivery: let the ones arriving with it join the batch (one transaction
                # for many events instead of one each), at the cost of a few milliseconds of delay.
                await asyncio.sleep(KICK_DEBOUNCE_SECONDS)
            self._wake.clear()
            try:
                await self.drain_inbox()
                # Escrow release is a clock's business, not a delivery's: once per tick period.
                now = asyncio.get_running_loop().time()
                if now >= next_release:
                    next_release = now + self._settings.payments_tick_seconds
                    await self.release_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payments background step failed")

    async def tick(self) -> int:
        processed = await self.drain_inbox()
        await self.release_due()
        return processed

    async def release_due(self) -> int:
        async with self._database.sessionmaker() as session, session.begin():
            return await PaymentsService(UnitOfWork(session), self._settings, self._gateway).release_due()

    async def process_batch(self, size: int = BATCH_SIZE) -> int:
        """Claim up to `size` events and apply them in the transaction that marks them processed: one
        commit for the batch, and still each event takes effect exactly once. The batch is first applied
        whole, under one savepoint (the common case: no event fails); if one fails, the savepoint is
        rolled back and the events are applied again one by one, each in its own savepoint, so that the
        failing one is kept for a retry and the others still take effect."""
        async with self._database.sessionmaker() as session, session.begin():
            service = PaymentsService(UnitOfWork(session), self._settings, self._gateway)
            events = await service.repository.claim_events(size)
            if not events:
                return 0
            try:
                async with session.begin_nested():
                    for event in events:
                        await service.process(event)
            except Exception:
                log.info("a webhook event failed in its batch: applying them one by one", size=len(events))
            else:
                await service.repository.mark_processed([event.event_id for event in events])
                return len(events)
            for event in events:
                event.attempts += 1
                # A fresh service each time: its cache of account ids may hold one made in a rolled-back savepoint.
                service = PaymentsService(UnitOfWork(session), self._settings, self._gateway)
                try:
                    async with session.begin_nested():
                        await service.process(event)
                except Exception as error:  # kept for the operator, retried by a later tick
                    log.exception("webhook event failed", event_id=event.event_id)
                    event.last_error = f"{type(error).__name__}: {error}"[:500]
                else:
                    event.processed_at = datetime.now(UTC)
        return len(events)

    async def drain_inbox(self, limit: int = 100_000) -> int:
        processed = 0
        while processed < limit:
            count = await self.process_batch()
            processed += count
            if count < BATCH_SIZE:
                return processed  # the inbox was emptied (anything newer came with a kick)
        return processed


@asynccontextmanager
async def payments_lifespan(state: Any, database: Database) -> AsyncIterator[PaymentsWorker]:
    """Per process: the payments loop; `state.payments_kick` wakes it when a webhook arrives."""
    worker = PaymentsWorker(database, state.settings, state.get("payments_gateway"))
    state.payments_kick = worker.kick
    state.payments_worker = worker
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
