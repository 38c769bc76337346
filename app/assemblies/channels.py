"""The transport of live updates: Litestar channels over PostgreSQL LISTEN/NOTIFY or Redis pub/sub,
made to survive the loss of its connections.

Litestar's channels plugin runs a publishing task and a subscribing task over a backend; if the
backend raises once, the publishing task dies, every later update is lost, and the plugin's shutdown
waits forever for a queue nobody drains. `ResilientBackend` sits between the plugin and the real
backend: it never raises to the plugin, bounds every call in time, watches the real backend's
health and rebuilds it (re-subscribing its channels) when a connection fails. Live updates are a
convenience on top of the ballots, never a condition of them: an update lost during an outage is
replaced by the next snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any

import asyncpg
import structlog
from litestar.channels import ChannelsBackend, ChannelsPlugin

log = structlog.get_logger(__name__)

CALL_TIMEOUT = 3.0
PROBE_EVERY = 2.0
SHUTDOWN_TIMEOUT = 5.0


class PostgresNotifyBackend(ChannelsBackend):
    """LISTEN on one connection, NOTIFY on another kept open (not one connection per message)."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        self._connect = connect
        self._listener: asyncpg.Connection | None = None
        self._publisher: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one statement at a time on each connection
        self._listen_lock = asyncio.Lock()
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._channels: set[str] = set()

    async def on_startup(self) -> None:
        self._listener = await self._connect()
        self._publisher = await self._connect()

    async def on_shutdown(self) -> None:
        for connection in (self._listener, self._publisher):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), CALL_TIMEOUT)
                    continue
                connection.terminate()

    def _notified(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait((channel, payload.encode()))

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        assert self._publisher is not None
        async with self._lock:
            for channel in channels:
                await self._publisher.execute("select pg_notify($1, $2)", channel, data.decode())

    async def subscribe(self, channels: Iterable[str]) -> None:
        assert self._listener is not None
        async with self._listen_lock:
            for channel in set(channels) - self._channels:
                await self._listener.add_listener(channel, self._notified)
                self._channels.add(channel)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        assert self._listener is not None
        async with self._listen_lock:
            for channel in set(channels) & self._channels:
                self._channels.discard(channel)
                await self._listener.remove_listener(channel, self._notified)

    async def stream_events(self) -> AsyncGenerator[tuple[str, bytes], None]:
        while True:
            yield await self._queue.get()

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError

    async def probe(self) -> None:
        """Raises unless both connections answer (a dead LISTEN connection otherwise goes unnoticed)."""
        if self._listener is None or self._publisher is None:
            raise ConnectionError("not connected")
        async with self._listen_lock:
            await self._listener.fetchval("select 1")
        async with self._lock:
            await self._publisher.fetchval("select 1")


class ResilientBackend(ChannelsBackend):
    """Wraps a backend made by `make`; `probe(backend)` raises when it is no longer usable."""

    def __init__(
        self,
        make: Callable[[], ChannelsBackend],
        probe: Callable[[ChannelsBackend], Awaitable[Any]],
        *,
        name: str,
        probe_every: float = PROBE_EVERY,
    ) -> None:
        self._make = make
        self._probe = probe
        self._name = name
        self._probe_every = probe_every
        self._inner: ChannelsBackend | None = None
        self._pump: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._broken = asyncio.Event()
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=10_000)
        self._channels: set[str] = set()
        self.reconnections = 0

    @property
    def connected(self) -> bool:
        return self._inner is not None and not self._broken.is_set()

    async def on_startup(self) -> None:
        await self._connect()  # a failure here is the watchdog's to repair: the server starts anyway
        self._watchdog = asyncio.create_task(self._watch(), name=f"live-{self._name}-watchdog")

    async def on_shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await self._drop()

    async def _connect(self) -> bool:
        inner = self._make()
        try:
            await asyncio.wait_for(inner.on_startup(), CALL_TIMEOUT)
            if self._channels:
                await asyncio.wait_for(inner.subscribe(list(self._channels)), CALL_TIMEOUT)
        except Exception as error:  # any failure to connect: try again later
            log.warning("live updates: cannot connect", backend=self._name, error=repr(error))
            with contextlib.suppress(Exception):
                await asyncio.wait_for(inner.on_shutdown(), CALL_TIMEOUT)
            return False
        self._inner = inner
        self._broken.clear()
        self._pump = asyncio.create_task(self._pump_from(inner), name=f"live-{self._name}-pump")
        return True

    async def _drop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
            self._pump = None
        inner, self._inner = self._inner, None
        if inner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(inner.on_shutdown(), CALL_TIMEOUT)

    async def _pump_from(self, inner: ChannelsBackend) -> None:
        try:
            async for channel, payload in inner.stream_events():
                with contextlib.suppress(asyncio.QueueFull):  # nobody is reading: drop, the next snapshot follows
                    self._queue.put_nowait((channel, payload))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("live updates: subscription lost", backend=self._name, error=repr(error))
            self._broken.set()

    async def _watch(self) -> None:
        delay = 0.2
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._broken.wait(), self._probe_every)
            healthy = self.connected
            if healthy:
                try:
                    await asyncio.wait_for(self._probe(self._inner), CALL_TIMEOUT)  # type: ignore[arg-type]
                except asyncio.CancelledError:
                    raise
                except Exception:
                    healthy = False
            if healthy:
                delay = 0.2
                continue
            await self._drop()
            if await self._connect():
                self.reconnections += 1
                log.info("live updates: reconnected", backend=self._name)
                delay = 0.2
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        inner = self._inner
        if inner is None or self._broken.is_set():
            return  # during an outage updates are dropped at once, so the plugin's queue never backs up
        try:
            await asyncio.wait_for(inner.publish(data, channels), CALL_TIMEOUT)
        except Exception as error:
            log.warning("live update not published", backend=self._name, error=repr(error))
            self._broken.set()

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._channels.update(channels)
        if self.connected:
            try:
                await asyncio.wait_for(self._inner.subscribe(channels), CALL_TIMEOUT)  # type: ignore[union-attr]
            except Exception:
                self._broken.set()  # re-subscribed with the rest on reconnection

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._channels.difference_update(channels)
        if self.connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._inner.unsubscribe(channels), CALL_TIMEOUT)  # type: ignore[union-attr]

    async def stream_events(self) -> AsyncGenerator[tuple[str, bytes], None]:
        while True:
            channel, payload = await self._queue.get()
            if channel in self._channels:
                yield channel, payload

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError


class BoundedChannelsPlugin(ChannelsPlugin):
    """Litestar's plugin, whose shutdown cannot wait forever on updates still queued."""

    async def _on_shutdown(self) -> None:
        try:
            await asyncio.wait_for(super()._on_shutdown(), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            log.warning("live updates: shutdown timed out; queued updates dropped")
            for task in (self._pub_task, self._sub_task):
                if task is not None:
                    task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._backend.on_shutdown(), CALL_TIMEOUT)
