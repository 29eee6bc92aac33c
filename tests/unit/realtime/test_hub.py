"""The frontend's hub without sockets or gRPC: fan-out, auth events, recovery, replay then live."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from bridge.calls import Credentials
from bridge.errors import Fault
from bridge.events.filters import compile_filter
from bridge.events.realtime import HistoryPage, SocketIdentity, StreamedEvent, StreamHello, StreamItem
from bridge.frontend.realtime_hub import (
    CLOSE_SLOW_CONSUMER,
    RealtimeHub,
    Subscription,
    notification,
    replay_then_live,
)


class Socket:
    """A subscriber that keeps what it is sent."""

    def __init__(self, identity: SocketIdentity | None = None) -> None:
        self.identity = identity
        self.sent: list[dict[str, Any]] = []
        self.closed: int | None = None

    def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def close_soon(self, code: int, reason: str) -> None:
        self.closed = code

    async def send_paced(self, text: str) -> bool:
        self.send(text)
        return True


def event(offset: int, kind: str = "person.saved", auth: bool = False, **data: Any) -> StreamedEvent:
    return StreamedEvent(f"evt_{offset:026d}", kind, offset, json.dumps(data).encode(), auth)


class History:
    """A source whose history is a list; stream and authenticate are not used here."""

    def __init__(self, events: list[StreamedEvent], low: int = 1) -> None:
        self.events = events
        self.low = low

    async def authenticate(self, creds: Credentials, request_id: str) -> SocketIdentity | Fault:
        raise NotImplementedError

    async def stream(self) -> AsyncIterator[StreamItem]:
        yield StreamHello("E", 0)

    async def read(self, after: int, limit: int) -> HistoryPage:
        high = self.events[-1].offset if self.events else 0
        page = tuple(e for e in self.events if e.offset > after)[:limit]
        return HistoryPage("E", self.low - 1 <= after <= high, high, page)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def fanned_out(self, count: int) -> None:
        self.count += count


def hub_with(history: History) -> RealtimeHub:
    hub = RealtimeHub(history, Counter())
    hub._take(StreamHello("E", 0))
    return hub


def subscribe(hub: RealtimeHub, socket: Socket, types: frozenset[str], match: Any = None) -> Subscription:
    subscription = Subscription("sub_1", socket, types, compile_filter(match or {}), limit=3)
    hub.add(subscription)
    subscription.pending = None
    return subscription


def test_notification_is_the_documented_json() -> None:
    """Params are an object with subscription, id, type, offset, epoch and the data as sent."""
    sent = json.loads(notification("sub_1", event(5, name="Jo"), "E"))
    assert sent == {
        "jsonrpc": "2.0",
        "method": "rpc.event",
        "params": {
            "subscription": "sub_1",
            "id": "evt_" + "5".zfill(26),
            "type": "person.saved",
            "offset": 5,
            "epoch": "E",
            "data": {"name": "Jo"},
        },
    }


def test_fan_out_by_type_filter_and_auth() -> None:
    """Each event reaches the subscriptions whose types and filter take it; auth ones only allowed users."""
    hub = hub_with(History([]))
    anonymous, allowed, scoped_out = (
        Socket(),
        Socket(SocketIdentity("t", "a", 1, ())),
        Socket(SocketIdentity("t", "b", 2, ("x.*",))),
    )
    subscribe(hub, anonymous, frozenset({"*"}), {"name": {"startswith": "J"}})
    subscribe(hub, allowed, frozenset({"person.removed"}))
    subscribe(hub, scoped_out, frozenset({"*"}))
    hub._take(event(1, name="Jo"))
    hub._take(event(2, name="Al"))
    hub._take(event(3, "person.removed", auth=True, name="Jo"))
    hub._take(event(3, name="Jo"))  # not newer than the last: ignored
    assert [m["params"]["offset"] for m in anonymous.sent] == [1]
    assert [m["params"]["offset"] for m in allowed.sent] == [3]
    assert [m["params"]["offset"] for m in scoped_out.sent] == [1, 2]


async def test_recovery_replays_matching_events_and_gives_up_when_history_is_gone() -> None:
    """Matching events after `since`, in order; None for another epoch, a trimmed history, or too many."""
    history = History([event(n, name="Jo" if n % 2 else "Al") for n in range(1, 11)], low=3)
    hub = hub_with(history)
    subscription = Subscription(
        "sub_1", Socket(), frozenset({"person.saved"}), compile_filter({"name": "Jo"})
    )
    found = await hub.recover(subscription, "E", 4, limit=10)
    assert found is not None and [e.offset for e in found] == [5, 7, 9]
    assert await hub.recover(subscription, "other", 4, limit=10) is None
    assert await hub.recover(subscription, "E", 1, limit=10) is None  # offsets 2..2 were trimmed
    assert await hub.recover(subscription, "E", 4, limit=2) is None


async def test_replay_then_live_sends_each_offset_once_in_order() -> None:
    """Live events that arrived during the replay follow it, without the ones the replay already sent."""
    socket = Socket()
    subscription = Subscription("sub_1", socket, frozenset({"*"}), compile_filter({}), last_offset=2)
    subscription.deliver(event(4), "E")  # recovering: kept
    subscription.deliver(event(5), "E")
    assert socket.sent == []
    await replay_then_live(subscription, [event(3), event(4)], "E", socket.send_paced)
    subscription.deliver(event(6), "E")
    assert [m["params"]["offset"] for m in socket.sent] == [3, 4, 5, 6]


def test_a_recovering_subscription_that_falls_behind_closes_its_socket() -> None:
    """More live events than the send queue holds while recovering: 4008."""
    socket = Socket()
    subscription = Subscription("sub_1", socket, frozenset({"*"}), compile_filter({}), limit=2)
    for offset in (1, 2, 3):
        subscription.deliver(event(offset), "E")
    assert socket.closed == CLOSE_SLOW_CONSUMER
