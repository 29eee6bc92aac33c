"""The frontend's realtime hub: one event stream from the sidecar, fanned out to local subscriptions.

No store and no credentials (docs/realtime.md): events, their offsets and the epoch come from the
sidecar's stream; control messages close the sockets whose credentials changed. No aiohttp here:
sockets are reached through the small `Subscriber` seam the WebSocket endpoint implements.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from bridge.calls import Credentials
from bridge.errors import BridgeError, Fault
from bridge.events.filters import EventFilter
from bridge.events.realtime import (
    HistoryPage,
    SocketControl,
    SocketIdentity,
    StreamedEvent,
    StreamHello,
    StreamItem,
)

log = logging.getLogger("rpcbridge.realtime")

ALL_TYPES: Final = "*"
HISTORY_PAGE: Final = 1000
# Raw history events one recovery may scan before it gives up (filters may skip most of them).
MAX_SCANNED_PAGES: Final = 100
RECONNECT_SECONDS: Final = 0.5
# Close codes (docs/realtime.md, "Close codes").
CLOSE_CREDENTIALS: Final = 4001
CLOSE_SLOW_CONSUMER: Final = 4008
CLOSE_SERVICE_RESTART: Final = 1012


class RealtimeSource(Protocol):
    """The sidecar's realtime service as the frontend sees it (`bridge.rpc.realtime_client`)."""

    async def authenticate(self, creds: Credentials, request_id: str) -> SocketIdentity | Fault:
        """The identity the sidecar vouches for, or the fault refusing the credentials."""
        ...

    def stream(self) -> AsyncIterator[StreamItem]:
        """Hello, then events and control messages; raises a BridgeError when the stream ends."""
        ...

    async def read(self, after: int, limit: int) -> HistoryPage:
        """A page of history after `after`; raises a BridgeError when unreachable."""
        ...


class Subscriber(Protocol):
    """What the hub needs of a socket: its user, sending a message, and closing it."""

    identity: SocketIdentity | None

    def send(self, text: str) -> None:
        """Queue a message; a full queue closes the socket with 4008."""
        ...

    def close_soon(self, code: int, reason: str) -> None:
        """Close the socket with `code` (once; later calls do nothing)."""
        ...


@dataclass(eq=False)
class Subscription:
    """One `rpc.subscribe` of one socket: which events, which data, and where it has got to.

    While `pending` is a list the subscription is recovering: live events wait there until the
    replay has been sent, so nothing is lost and nothing sent twice (offsets only go up).
    """

    id: str
    socket: Subscriber
    types: frozenset[str]
    match: EventFilter
    last_offset: int = 0
    pending: list[StreamedEvent] | None = field(default_factory=list)
    limit: int = 1000

    def wants(self, event: StreamedEvent, data: Callable[[], Any]) -> bool:
        """True when the event's type, auth and data let it through to this socket."""
        if ALL_TYPES not in self.types and event.type not in self.types:
            return False
        if event.auth:
            identity = self.socket.identity
            if identity is None or not identity.allows(event.type):
                return False
        return self.match.matches(data())

    def deliver(self, event: StreamedEvent, epoch: str, tail: str = "") -> None:
        """Send the event now, or keep it while recovering; never one at or before `last_offset`.

        Args:
            tail: `event_tail(event, epoch)`, when the caller made it once for many subscriptions.
        """
        if self.pending is not None:
            if len(self.pending) >= self.limit:
                self.socket.close_soon(CLOSE_SLOW_CONSUMER, "send queue full")
                return
            self.pending.append(event)
            return
        if event.offset <= self.last_offset:
            return
        self.last_offset = event.offset
        self.socket.send(notification(self.id, event, epoch, tail))


def event_tail(event: StreamedEvent, epoch: str) -> str:
    """The part of an `rpc.event` notification every subscription shares (data spliced in as sent)."""
    return (
        f',"id":{json.dumps(event.id)},"type":{json.dumps(event.type)},"offset":{event.offset},'
        f'"epoch":{json.dumps(epoch)},"data":{event.data_json.decode()}}}}}'
    )


def notification(subscription: str, event: StreamedEvent, epoch: str, tail: str = "") -> str:
    """The `rpc.event` notification of one event for one subscription (ids are `sub_` and hex)."""
    head = '{"jsonrpc":"2.0","method":"rpc.event","params":{"subscription":"' + subscription + '"'
    return head + (tail or event_tail(event, epoch))


class HubMetrics(Protocol):
    """The counters the hub keeps (the frontend's metrics)."""

    def fanned_out(self, count: int) -> None:
        """Count events sent to subscriptions."""
        ...


class RealtimeHub:
    """Follows the sidecar's event stream and hands each event to the subscriptions that want it."""

    def __init__(self, source: RealtimeSource, metrics: HubMetrics) -> None:
        self.source = source
        self._metrics = metrics
        self.epoch = ""
        self.offset = 0
        self.ready = asyncio.Event()
        self.sockets: set[Subscriber] = set()
        self._by_type: dict[str, set[Subscription]] = {}

    @property
    def subscriptions(self) -> int:
        """How many subscriptions are open."""
        return sum(len(subs) for subs in self._by_type.values())

    def add(self, subscription: Subscription) -> None:
        """Start handing events to a subscription (recovering, until `go_live`)."""
        for name in subscription.types:
            self._by_type.setdefault(name, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        """Stop handing events to a subscription."""
        for name in subscription.types:
            subs = self._by_type.get(name)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._by_type[name]

    async def run(self) -> None:
        """Follow the stream forever; when it breaks, close every socket with 1012 and reconnect.

        Events committed while the stream was down never reached this frontend live, so its
        sockets are closed and their clients resume with `since`, which replays them from history.
        """
        while True:
            try:
                async for item in self.source.stream():
                    self._take(item)
            except BridgeError as exc:
                log.warning("sidecar event stream lost: %s; reconnecting", exc)
            except Exception:  # a bug must not end realtime for good: log it and start over
                log.exception("sidecar event stream failed; reconnecting")
            self.ready.clear()
            self.close_all(CLOSE_SERVICE_RESTART, "event stream restarting")
            await asyncio.sleep(RECONNECT_SECONDS)

    def close_all(self, code: int, reason: str) -> None:
        """Close every socket."""
        for socket in list(self.sockets):
            socket.close_soon(code, reason)

    def _take(self, item: StreamItem) -> None:
        if isinstance(item, StreamHello):
            self.epoch, self.offset = item.epoch, item.offset
            self.ready.set()
        elif isinstance(item, SocketControl):
            self._control(item)
        elif item.offset > self.offset:
            self.offset = item.offset
            self._fan_out(item)

    def _control(self, message: SocketControl) -> None:
        for socket in list(self.sockets):
            identity = socket.identity
            if identity is not None and message.applies_to(identity.user, identity.key_id):
                socket.close_soon(CLOSE_CREDENTIALS, "credentials changed")

    def _fan_out(self, event: StreamedEvent) -> None:
        targets = _chain(self._by_type.get(event.type, ()), self._by_type.get(ALL_TYPES, ()))
        decoded: list[Any] = []

        def data() -> Any:  # decoded once, and only if a subscription looks at it
            if not decoded:
                decoded.append(json.loads(event.data_json))
            return decoded[0]

        sent = 0
        tail = event_tail(event, self.epoch) if targets else ""
        for subscription in targets:
            if subscription.wants(event, data):
                subscription.deliver(event, self.epoch, tail)
                sent += 1
        if sent:
            self._metrics.fanned_out(sent)

    async def recover(
        self, subscription: Subscription, epoch: str, after: int, limit: int
    ) -> list[StreamedEvent] | None:
        """The matching events after `after` (at most `limit`), or None when they cannot all be had."""
        if epoch != self.epoch:
            return None
        found: list[StreamedEvent] = []
        for _ in range(MAX_SCANNED_PAGES):
            page = await self.source.read(after, HISTORY_PAGE)
            if not page.reaches_back or page.epoch != epoch:
                return None
            for event in page.events:
                if subscription.wants(event, functools.partial(json.loads, event.data_json)):
                    found.append(event)
                    if len(found) > limit:
                        return None
                after = event.offset
            if not page.events or after >= page.offset:  # pages may be cut short by size
                return found
        return None


def _chain(*groups: Iterable[Subscription]) -> list[Subscription]:
    return [subscription for group in groups for subscription in group]


async def replay_then_live(
    subscription: Subscription,
    replay: list[StreamedEvent],
    epoch: str,
    send_paced: Callable[[str], Awaitable[bool]],
) -> None:
    """Send the replay (paced to the socket's queue), then what arrived meanwhile, then go live."""
    for event in replay:
        if event.offset > subscription.last_offset:
            subscription.last_offset = event.offset
            if not await send_paced(notification(subscription.id, event, epoch)):
                return
    while subscription.pending:
        waiting, subscription.pending = subscription.pending, []
        for event in waiting:
            if event.offset > subscription.last_offset:
                subscription.last_offset = event.offset
                if not await send_paced(notification(subscription.id, event, epoch)):
                    return
    subscription.pending = None
