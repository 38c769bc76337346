"""One request owns one transaction: it commits when the handler succeeds, rolls back otherwise.

Services never commit. Work that must only happen once the data is durable (sending a mail that
carries a token, publishing an event) is registered with `after_commit`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError

log = structlog.get_logger(__name__)


@dataclass
class UnitOfWork:
    session: AsyncSession
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(action)

    async def run_after_commit(self) -> None:
        for action in self._after_commit:
            try:
                await action()
            except Exception:  # the data is committed; a failed side effect is logged, not fatal
                log.exception("after-commit action failed")


async def provide_unit_of_work(state: State) -> AsyncGenerator[UnitOfWork, None]:
    async with state.database.sessionmaker() as session:
        unit = UnitOfWork(session)
        try:
            yield unit
        except AppError as error:
            await (session.commit() if error.keeps_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
    await unit.run_after_commit()


async def provide_session(unit_of_work: NamedDependency[UnitOfWork]) -> AsyncSession:
    return unit_of_work.session
