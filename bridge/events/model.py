"""The `Event` record, its sortable `evt_` ids, the whitelist that keeps undeclared fields home, and
`EmittedEvent`, what a worker sends back with a call's reply.

Pure: the standard library only; never grpc, aiohttp or a store.
"""

from __future__ import annotations

import datetime
import re
import secrets
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

EVENT_ID_PREFIX: Final = "evt_"
# Crockford's base32 (no I, L, O, U), as ULIDs use: ids sort as text in time order.
_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS: Final = 80
_RANDOM_LIMIT: Final = 1 << _RANDOM_BITS

# The bridge's own event types, committed on the same path as workers' events (DESIGN.md, Events).
JOB_FAILED: Final = "job.failed"
JOB_SUCCEEDED: Final = "job.succeeded"
WEBHOOK_DISABLED: Final = "webhook.disabled"
BRIDGE_EVENT_TYPES: Final = frozenset({JOB_FAILED, JOB_SUCCEEDED, WEBHOOK_DISABLED})
# An event type: letters, digits and `_ . : -`, starting with a letter or digit, at most 200 long.
_EVENT_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")


def is_event_type(name: str) -> bool:
    """True when `name` is a well-formed event type, such as "person.saved"."""
    return _EVENT_TYPE.fullmatch(name) is not None


class _IdClock:
    """ULID state: 48 bits of milliseconds, 80 random bits, incremented within one millisecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def next(self) -> int:
        now_ms = time.time_ns() // 1_000_000
        with self._lock:
            # Monotonic even when the wall clock steps back or two ids share a millisecond.
            if now_ms <= self._last_ms:
                now_ms = self._last_ms
                self._last_random += 1
                if self._last_random >= _RANDOM_LIMIT:
                    now_ms += 1
                    self._last_random = secrets.randbits(_RANDOM_BITS - 1)
            else:
                self._last_random = secrets.randbits(_RANDOM_BITS - 1)
            self._last_ms = now_ms
            return (now_ms << _RANDOM_BITS) | self._last_random


_CLOCK: Final = _IdClock()


def new_event_id() -> str:
    """A new `evt_` id: 26 base32 characters that sort in creation order, unique in practice."""
    number = _CLOCK.next()
    chars = [_ALPHABET[(number >> shift) & 31] for shift in range(125, -1, -5)]
    return EVENT_ID_PREFIX + "".join(chars)


def whitelist(data: Mapping[str, Any], provides: Collection[str]) -> dict[str, Any]:
    """The top-level fields of `data` named in `provides`, in `data`'s order; the rest are dropped."""
    return {name: value for name, value in data.items() if name in provides}


@dataclass(frozen=True, slots=True)
class EmittedEvent:
    """One event as a worker emitted it during a call: its hook, the whitelisted data, when (aware UTC)."""

    type: str
    data: Mapping[str, Any]
    timestamp: datetime.datetime


@dataclass(frozen=True)
class Event:
    """One emitted event: identity, type, time, whitelisted data, and where it came from.

    `data` holds neutral values (see `bridge.calls`); read back from a store it holds their JSON
    form (docs/events.md, "Delivery body"). `auth` is True when the hook was declared with
    `auth=True`, so only authenticated subscribers may receive it. `offset` is the store's
    commit-order cursor (strictly increasing in commit order), None before the event is committed.
    """

    type: str
    data: Mapping[str, Any]
    id: str = field(default_factory=new_event_id)
    timestamp: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    procedure: str | None = None
    request_id: str | None = None
    caller: str | None = None
    auth: bool = False
    offset: int | None = None

    def __post_init__(self) -> None:
        if not self.id.startswith(EVENT_ID_PREFIX):
            raise ValueError(f"an event id starts with {EVENT_ID_PREFIX!r}, not {self.id!r}")
        if not self.type:
            raise ValueError("an event needs a type")
        offset = self.timestamp.utcoffset()
        if offset is None:
            raise ValueError("an event's timestamp must be timezone-aware (UTC)")
        if offset:
            object.__setattr__(self, "timestamp", self.timestamp.astimezone(datetime.UTC))
