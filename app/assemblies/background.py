"""The background loop every server process runs: open and close votes on time, remind, mail, chain.

Several processes run it at once safely: due votes are claimed with `FOR UPDATE SKIP LOCKED` (one
closer per vote, the others move on) and the close itself is idempotent; mails are claimed the same
way; the audit sequencer holds an advisory lock. Each step runs in its own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from sqlalchemy.engine import URL

from app.accounts.tokens import development_key
from app.assemblies import audit, mails
from app.assemblies.channels import (
    CALL_TIMEOUT,
    BoundedChannelsPlugin,
    PostgresNotifyBackend,
    ResilientBackend,
)
from app.assemblies.closing import Closer
from app.assemblies.live import Live
from app.assemblies.secrecy import BallotSeals, ElectionKeys, ReceiptSigner
from app.assemblies.service import AssemblyService, Governance
from app.core.errors import AppError
from app.core.mail import Mail, Mailer
from app.core.stopping import on_stop_signal
from app.db.engine import Database, application_url
from app.db.transaction import UnitOfWork
from app.db.url import asyncpg_dsn
from app.settings import Settings

log = structlog.get_logger(__name__)

STOP_TIMEOUT = 3.0


class Background:
    def __init__(self, database: Database, context: Governance, mailer: Mailer) -> None:
        self._database = database
        self._context = context
        self._mailer = mailer
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="assemblies-background")

    async def stop(self) -> None:
        """Bounded: a step stuck on a database that no longer answers does not hold the shutdown."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(self._task, STOP_TIMEOUT)
            self._task = None

    async def _run(self) -> None:
        interval = self._context.settings.assembly_tick_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("assemblies background step failed")

    async def tick(self) -> None:
        await self.open_due()
        await self.close_due()
        await self.remind()
        await self.send_mail()
        await self.chain()

    async def _in_transaction(self, work: Callable[[AssemblyService], Awaitable[Any]]) -> Any:
        async with self._database.sessionmaker() as session:
            unit = UnitOfWork(session)
            async with session.begin():
                outcome = await work(AssemblyService(unit, self._context))
        await unit.run_after_commit()
        return outcome

    async def open_due(self) -> None:
        ids = await self._in_transaction(lambda s: s.repository.due_assemblies())
        for assembly_id in ids:
            with contextlib.suppress(AppError):
                await self._in_transaction(lambda s, a=assembly_id: s.open_assembly(None, a))
        ids = await self._in_transaction(lambda s: s.repository.due_to_open())
        for proposal_id in ids:
            with contextlib.suppress(AppError):
                await self._in_transaction(lambda s, p=proposal_id: s.open_proposal(None, p))

    async def close_due(self) -> int:
        """Close every vote past its closing time; returns how many this process closed."""
        closed = 0
        while True:

            async def one(service: AssemblyService) -> bool:
                claimed = await service.repository.claim_due_to_close()
                if claimed is None:
                    return False
                await Closer(service).close(claimed.id, by=None, claimed=claimed)
                return True

            if not await self._in_transaction(one):
                return closed
            closed += 1

    async def remind(self) -> None:
        hours = self._context.settings.reminder_hours_before_close

        async def claim(service: AssemblyService) -> None:
            for proposal in await service.repository.claim_reminders(hours):
                if proposal.electorate_id is None:
                    continue
                subject, body = mails.reminder(
                    proposal.title,
                    proposal.closes_at,
                    f"{self._context.settings.public_base_url}/api/v1/proposals/{proposal.id}",
                )
                await service.repository.enqueue_mail_to_roll(
                    kind="reminder",
                    electorate_id=proposal.electorate_id,
                    subject=subject,
                    body=body,
                    assembly_id=proposal.assembly_id,
                    proposal_id=proposal.id,
                    only_non_voters_of=proposal.id,
                )

        await self._in_transaction(claim)

    async def send_mail(self, batch: int = 50) -> int:
        sent = 0
        while True:

            async def one_batch(service: AssemblyService) -> int:
                rows = await service.repository.claim_mails(batch)
                semaphore = asyncio.Semaphore(8)

                async def deliver(row: Any) -> None:
                    async with semaphore:
                        row.attempts += 1
                        try:
                            await self._mailer.send(Mail(to=row.to_email, subject=row.subject, body=row.body))
                        except Exception as error:  # retried by a later tick, up to 5 attempts
                            row.last_error = str(error)[:500]
                        else:
                            row.sent_at = datetime.now(UTC)

                await asyncio.gather(*(deliver(row) for row in rows))
                return len(rows)

            count = await self._in_transaction(one_batch)
            sent += count
            if count < batch:
                return sent

    async def chain(self, *, wait: bool = False) -> int:
        total = 0
        while True:
            linked = await self._in_transaction(lambda s: audit.chain_pending(s.repository, wait=wait))
            total += linked
            if linked < audit.BATCH:
                return total

    async def seal_now(self) -> None:
        await self.chain(wait=True)


def build_governance(settings: Settings, channels: ChannelsPlugin | None) -> Governance:
    pems = [key.get_secret_value() for key in settings.jwt_private_keys] or [development_key(settings.data_dir)]
    return Governance(
        settings=settings,
        seals=BallotSeals(settings.secret_key.get_secret_value()),
        election=ElectionKeys((settings.ballot_secret or settings.secret_key).get_secret_value()),
        signer=ReceiptSigner(pems[0]),
        live=Live(channels),
    )


def channels_plugin(settings: Settings, database_url: Callable[[], URL]) -> ChannelsPlugin:
    """Redis pub/sub when REDIS_URL is set, PostgreSQL LISTEN/NOTIFY otherwise; both self-healing."""
    backend: ResilientBackend
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)

        async def ping(_backend: Any) -> None:
            await client.ping()

        backend = ResilientBackend(lambda: RedisChannelsPubSubBackend(redis=client), ping, name="redis")
    else:

        async def connect() -> asyncpg.Connection:
            # Directly to PostgreSQL, never through a transaction pooler: LISTEN needs its own session.
            return await asyncpg.connect(
                asyncpg_dsn(application_url(database_url(), settings)),
                timeout=CALL_TIMEOUT,
                statement_cache_size=0,
                server_settings={"application_name": "coop-live"},
            )

        async def probe(inner: Any) -> None:
            await inner.probe()

        backend = ResilientBackend(lambda: PostgresNotifyBackend(connect), probe, name="postgres")
    return BoundedChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)


@asynccontextmanager
async def assemblies_lifespan(state: Any, database: Database) -> AsyncIterator[None]:
    """Per process: the live flusher and the background loop (opening, closing, mails, audit chain)."""
    context: Governance = state.governance
    background = Background(database, context, state.mailer)
    # The process's one loop serves its requests: they wake its mail sender and seal through it.
    context.kick_mail = background.kick
    context.seal_audit_chain = background.seal_now

    async def snapshot(proposal_id: uuid.UUID) -> dict[str, Any] | None:
        async with database.sessionmaker() as session:
            service = AssemblyService(UnitOfWork(session), context)
            proposal = await service.repository.get_proposal(proposal_id)
            return None if proposal is None else await service.snapshot(proposal)

    context.live.start(snapshot)
    background.start()
    try:
        async with on_stop_signal(context.live.drain):
            yield
    finally:
        await background.stop()
        await context.live.stop()
