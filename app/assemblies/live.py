"""Live updates of a vote, across server processes, through Litestar channels.

The channels backend is PostgreSQL's LISTEN/NOTIFY by default (nothing else to run with the
embedded database) and Redis pub/sub when `REDIS_URL` is set. Every process publishes what it
changed; every process relays what it hears to its own Server-Sent Events subscribers.

Participation changes at the rate of ballots; publishing one message per ballot would put a NOTIFY
on the hot path of a burst. Instead a ballot only marks its vote as changed, and a per-process
flusher publishes each changed vote's snapshot at most once per `INTERVAL` (a quarter of a second).

A stream never ends by itself before its vote closes, so when the process is told to stop, `drain`
ends every open stream with a `shutdown` event (and a `retry:` delay) instead of letting the server
wait out its graceful timeout and cut them: browsers' EventSource, and the web client, reconnect on
their own, to another process or to this one restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import structlog
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage

log = structlog.get_logger(__name__)

INTERVAL = 0.25
KEEP_ALIVE = 15.0
RECONNECT_AFTER_MS = 1000  # long enough for a load balancer to notice the process is gone

Snapshot = Callable[[uuid.UUID], Awaitable[dict[str, Any] | None]]


def channel_name(proposal_id: uuid.UUID) -> str:
    return f"vote_{proposal_id.hex}"


class Live:
    def __init__(self, channels: ChannelsPlugin | None) -> None:
        self._channels = channels
        self._dirty: set[uuid.UUID] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._snapshot: Snapshot | None = None
        self._followers: set[asyncio.Queue[bytes | None]] = set()
        self._draining = False

    def start(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._task = asyncio.create_task(self._flusher(), name="live-flusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(self._task, 3.0)
            self._task = None

    def drain(self) -> None:
        """Ends every open stream, and every stream opened from now on, with a `shutdown` event."""
        self._draining = True
        for queue in self._followers:
            queue.put_nowait(None)

    def publish(self, proposal_id: uuid.UUID, event: dict[str, Any]) -> None:
        if self._channels is None:
            return
        try:
            self._channels.publish(msgspec.json.encode(event), channel_name(proposal_id))
        except Exception:  # live updates are a convenience: never fail the request for them
            log.warning("live update not published", proposal_id=str(proposal_id), exc_info=True)

    def changed(self, proposal_id: uuid.UUID) -> None:
        self._dirty.add(proposal_id)
        self._wake.set()

    async def _flusher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(INTERVAL)
            dirty, self._dirty = self._dirty, set()
            for proposal_id in dirty:
                try:
                    snapshot = await self._snapshot(proposal_id) if self._snapshot else None
                except Exception:
                    log.warning("live snapshot failed", proposal_id=str(proposal_id), exc_info=True)
                    continue
                if snapshot is not None:
                    self.publish(proposal_id, snapshot)

    async def stream(self, proposal_id: uuid.UUID, first: dict[str, Any]) -> AsyncIterator[ServerSentEventMessage]:
        """The events of one vote for one follower: the current snapshot, then changes until the close."""
        opening = ServerSentEventMessage(event=first["type"], data=msgspec.json.encode(first).decode())
        if first.get("state") == "closed" or self._channels is None:
            yield opening
            return
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._followers.add(queue)
        if self._draining:
            queue.put_nowait(None)
        try:
            subscriber = await self._channels.subscribe(channel_name(proposal_id))
        except BaseException:
            self._followers.discard(queue)
            raise

        async def pump() -> None:
            async for payload in subscriber.iter_events():
                await queue.put(payload)

        pumping = asyncio.create_task(pump())
        try:
            # Subscribed before the first snapshot goes out: a follower that has it misses no later change.
            yield opening
            while True:
                try:
                    payload = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive")
                    continue
                if payload is None:
                    yield ServerSentEventMessage(event="shutdown", data='{"type":"shutdown"}', retry=RECONNECT_AFTER_MS)
                    return
                event = msgspec.json.decode(payload)
                yield ServerSentEventMessage(event=event.get("type", "message"), data=payload.decode())
                if event.get("state") == "closed":
                    return
        finally:
            self._followers.discard(queue)
            pumping.cancel()
            await self._channels.unsubscribe(subscriber)
