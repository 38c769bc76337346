"""One request owns one transaction: it commits when the handler succeeds, rolls back otherwise.

Services never commit. Work that must only happen once the data is durable (sending a mail that
carries a token, publishing an event) is registered with `after_commit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.db.engine import Database  # at run time: Litestar reads this dataclass's annotations

log = structlog.get_logger(__name__)


@dataclass
class UnitOfWork:
    session: AsyncSession
    # The request's database, for the single-statement reads that need no transaction (`Database.fetch_row`):
    # a repository may read there while `session` has begun nothing, i.e. while the request has written
    # nothing it would have to see. None outside HTTP requests (CLI, background loops): the session then.
    database: Database | None = None
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(action)

    @property
    def has_after_commit(self) -> bool:
        return bool(self._after_commit)

    async def run_after_commit(self) -> None:
        for action in self._after_commit:
            try:
                await action()
            except Exception:  # the data is committed; a failed side effect is logged, not fatal
                log.exception("after-commit action failed")


class BackgroundTasks:
    """Work started after a commit that the response must not wait for (mail delivery time would
    otherwise tell whether an address has an account). Awaited at shutdown so nothing is lost."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def provide_unit_of_work(state: State) -> AsyncGenerator[UnitOfWork, None]:
    session = state.database.sessionmaker()
    unit = UnitOfWork(session, database=state.database)
    try:
        try:
            yield unit
        except AppError as error:
            committed = error.keeps_changes
            await (session.commit() if committed else session.rollback())
            if committed and unit.has_after_commit:
                state.background.spawn(unit.run_after_commit())
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            if _has_begun(session):
                await session.commit()
    finally:
        if _holds_anything(session):
            # What `async with session` ends with: close(), shielded from the request's cancellation.
            await session.__aexit__(None, None, None)
    if unit.has_after_commit:  # most requests register nothing: no task to start then
        state.background.spawn(unit.run_after_commit())


def _holds_anything(session: AsyncSession) -> bool:
    """Whether closing the session has anything to release: a request that read and wrote only outside
    it (the raw pool) leaves it empty, and AsyncSession.close() would still start a shielded task and a
    greenlet to close nothing (~130 µs, bench/README.md)."""
    return session.in_transaction() or bool(session.identity_map) or bool(session.new or session.deleted)


def _has_begun(session: AsyncSession) -> bool:
    """Whether the request used its session: a request that read only outside it (`Database.fetch_row`)
    has nothing to commit, and SQLAlchemy's commit would still build and close an empty transaction."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


async def provide_session(unit_of_work: NamedDependency[UnitOfWork]) -> AsyncSession:
    return unit_of_work.session
