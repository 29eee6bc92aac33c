"""The sidecar's realtime side: follows the event history and pushes it, with socket-control
messages, to every frontend's open `StreamEvents`; answers history reads and socket authentication.

Pure of transport (`bridge.rpc.realtime_server` is the gRPC face). Events reach each stream in
offset order because they are read back from the history, never forwarded as they commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Final

from bridge.auth.failures import AuthFailure
from bridge.calls import Credentials
from bridge.errors import Status
from bridge.events.realtime import HistoryPage, SocketControl, SocketIdentity, StreamHello, StreamItem
from bridge.sidecar.socket_auth import SocketAuthority
from bridge.store.event_history import EventHistory
from bridge.store.interfaces import StoreError

log = logging.getLogger("rpcbridge.realtime")

PAGE: Final = 1000
# A history page stays well below gRPC's message limit (bridge.rpc.servers.MAX_MESSAGE_BYTES).
PAGE_BYTES: Final = 4 << 20
# Seconds a follower waits for new events before asking again (other processes' commits, SQL).
FOLLOW_SECONDS: Final = 1.0
# Items one frontend's stream may lag behind; past that its stream ends and it reconnects.
STREAM_BACKLOG: Final = 100_000


class EventFeed:
    """One follower of the history per sidecar, fanned out to the frontends' streams."""

    def __init__(self, history: EventHistory) -> None:
        self._history = history
        self._streams: set[asyncio.Queue[StreamItem | None]] = set()
        self._epoch = ""
        self._offset = 0
        self._started = asyncio.Event()

    async def _start(self) -> None:
        """Learn the epoch and the newest offset (streams begin there), retrying until the history answers."""
        while True:
            try:
                page = await self._history.read_after(0, 1)
            except StoreError as exc:
                log.warning("cannot read the event history (realtime waits for it): %s", exc)
                await asyncio.sleep(FOLLOW_SECONDS)
                continue
            self._epoch, self._offset = page.epoch, page.offset
            self._started.set()
            return

    async def follow(self) -> None:
        """Read new events from the history forever and queue them on every open stream."""
        await self._start()
        while True:
            try:
                events = await self._history.wait_after(self._offset, PAGE, FOLLOW_SECONDS)
            except StoreError as exc:
                log.warning("cannot follow the event history: %s", exc)
                await asyncio.sleep(FOLLOW_SECONDS)
                continue
            for event in events:
                if event.offset > self._offset:
                    self._offset = event.offset
                    self._push(event)

    def control(self, message: SocketControl) -> None:
        """Tell every frontend to close the sockets a credential change ends."""
        log.info("closing sockets of %r (key %s): %s", message.user, message.key_id or "any", message.reason)
        self._push(message)

    def _push(self, item: StreamItem) -> None:
        for queue in list(self._streams):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self._streams.discard(queue)
                queue.get_nowait()  # make room for the end marker
                queue.put_nowait(None)

    async def stream(self) -> AsyncIterator[StreamItem]:
        """A hello, then every event after it and every control message, until the caller stops."""
        await self._started.wait()
        queue: asyncio.Queue[StreamItem | None] = asyncio.Queue(STREAM_BACKLOG)
        self._streams.add(queue)
        try:
            yield StreamHello(self._epoch, self._offset)
            while (item := await queue.get()) is not None:
                yield item
            log.warning("a frontend's event stream fell %d items behind; it was ended", STREAM_BACKLOG)
        finally:
            self._streams.discard(queue)

    async def read(self, after: int, limit: int) -> HistoryPage:
        """A page of history, cut at about PAGE_BYTES of data (raises StoreError when unreadable)."""
        page = await self._history.read_after(after, max(1, min(limit, PAGE)))
        size, kept = 0, 0
        for kept, event in enumerate(page.events, 1):  # noqa: B007 (kept counts the events that fit)
            size += len(event.data_json)
            if size > PAGE_BYTES:
                break
        return dataclasses.replace(page, events=page.events[: max(1, kept)])


class RealtimeService:
    """The handler of `rpcbridge.v1.Realtime`: the feed's streams and history, and socket authentication."""

    def __init__(self, feed: EventFeed, authority: SocketAuthority) -> None:
        self._feed = feed
        self._authority = authority

    def stream(self) -> AsyncIterator[StreamItem]:
        """The feed's stream for one frontend."""
        return self._feed.stream()

    async def read(self, after: int, limit: int) -> HistoryPage:
        """A page of history."""
        return await self._feed.read(after, limit)

    async def authenticate(self, creds: Credentials) -> SocketIdentity | tuple[Status, str]:
        """The socket's identity, or the status and message that refuse it."""
        try:
            return await self._authority.authenticate(creds)
        except AuthFailure as failure:
            log.info("socket authentication refused: %s (%s)", failure.reason.value, failure.detail)
            return failure.status, failure.message
