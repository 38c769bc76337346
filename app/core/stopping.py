"""The moment a server process is told to stop, for responses that would otherwise hold its shutdown open.

uvicorn tells the application nothing until its open connections have finished (the lifespan
`shutdown` message comes after the graceful wait), and a live stream never finishes by itself:
without this the server waits out its whole graceful timeout, then cuts the streams. uvicorn stops
on SIGTERM or SIGINT through handlers it installs with `signal.signal` before the lifespan starts
(in every worker process too); `on_stop_signal` chains a callback after them, so it runs as soon as
the signal arrives, before the graceful wait.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@asynccontextmanager
async def on_stop_signal(callback: Callable[[], None]) -> AsyncIterator[None]:
    """While inside, `callback` runs in the event loop when the process receives SIGTERM or SIGINT.

    Only when a Python handler (the server's) is already there to chain to: replacing the default
    disposition would keep the process from stopping at all. Signals are handled by the main thread
    only, so elsewhere (a test client's portal thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Any, Any]] = {}

    def chain(previous: Callable[[int, FrameType | None], Any]) -> Callable[[int, FrameType | None], None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            previous(signum, frame)
            loop.call_soon_threadsafe(callback)

        return handler

    for signum in STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if callable(previous):
            handler = chain(previous)
            signal.signal(signum, handler)
            installed[signum] = (previous, handler)
    try:
        yield
    finally:
        for signum, (previous, handler) in installed.items():
            # Put the server's handler back unless someone replaced ours meanwhile.
            if signal.getsignal(signum) is handler:
                signal.signal(signum, previous)
