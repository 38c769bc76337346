"""A refused form on a page that shows stored rows: undo the refused write, read the page back, keep it.

The request's unit of work rolls back again as the error passes, which would expire the rows the page
shows: they are read after a first rollback and detached from the session before the error is raised.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.web.rendering import FormRejected, field_errors


async def refused(
    session: AsyncSession,
    template: str,
    error: AppError | FormRejected,
    context_of: Callable[[], Awaitable[dict[str, Any]]],
    **shown: Any,
) -> FormRejected:
    await session.rollback()
    context = {**await context_of(), **shown}
    session.expunge_all()
    if isinstance(error, FormRejected):
        return FormRejected(template, {**error.context, **context}, error.errors, error.summary, error.status)
    summary, errors = field_errors(error)
    return FormRejected(template, context, errors, summary, error.status_code)
