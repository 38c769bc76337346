"""What counts as the database being unreachable, so that it is answered 503 rather than 500.

It owns the classification only (a dropped connection, a refused one, a server shutting down or
starting up, a pool with no connection to give); it never retries writes, and never decides a
response itself: app/core/errors.py and `Database.fetch_row` use it.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc

# SQLSTATE classes 08 (connection exception) and 57P (operator intervention: admin shutdown,
# crash shutdown, cannot connect now): the server is gone or going, not the query wrong.
_OUTAGE_SQLSTATES = ("08", "57P")
# asyncpg's words for a connection left unusable by a failure (not for a misuse of our own).
_BROKEN_CONNECTION = ("connection is closed", "another operation is in progress")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver error SQLAlchemy wrapped, and what caused them."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def is_disconnect(error: BaseException) -> bool:
    """The connection is unusable (closed by the server, refused, reset): another one may work."""
    for link in _chain(error):
        if isinstance(link, exc.DBAPIError) and link.connection_invalidated:
            return True
        if isinstance(link, exc.DisconnectionError | asyncpg.ConnectionDoesNotExistError):
            return True
        if isinstance(link, asyncpg.InterfaceError) and any(sign in str(link) for sign in _BROKEN_CONNECTION):
            return True
        if isinstance(link, asyncpg.exceptions.InternalClientError):
            return True  # the protocol's state machine was left mid-operation by a lost connection
        if isinstance(link, asyncpg.PostgresError) and str(getattr(link, "sqlstate", "")).startswith(_OUTAGE_SQLSTATES):
            return True
        if isinstance(link, OSError) and _raised_by_the_driver(link):
            return True  # refused, reset, no socket file: the socket layer's word for "no server"
    return False


def _raised_by_the_driver(error: BaseException) -> bool:
    """An OSError from asyncpg's connection code (a stopped server's Unix socket is a missing
    file); the same error raised by our own code is a bug, and stays a 500."""
    frame = error.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg"):
            return True
        frame = frame.tb_next
    return False


def is_outage(error: BaseException) -> bool:
    """The request failed because the database cannot serve now: answer 503 with Retry-After."""
    if is_disconnect(error):
        return True
    # The pool waited its timeout for a free connection: overloaded, not broken.
    return any(isinstance(link, exc.TimeoutError) for link in _chain(error))
