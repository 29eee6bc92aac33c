"""The deployment-wide, ordered event history WebSocket subscribers resume from, with its epoch.

One machine: the `events` table (its commit-order `seq` is the offset) and an epoch row in
`admin_settings`. With `redis_url`: a Redis Stream whose entry ids are `<offset>-0`, numbered by an
INCR in the same Lua script as the XADD, and an epoch key created once with SET NX, so every
sidecar and frontend reports the same offsets and epoch. Imports redis.asyncio; never grpc or aiohttp.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any, Final, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bridge.events.delivery_body import encode_event_data
from bridge.events.model import Event
from bridge.events.realtime import HistoryPage, StreamedEvent
from bridge.settings import Settings
from bridge.store.database import Database
from bridge.store.interfaces import EventStore, StoreUnavailable
from bridge.store.sql_event_store import MAX_EVENTS_PAGE

EPOCH_SETTING: Final = "events_epoch"
REDIS_PREFIX: Final = "rpcbridge:events:"

# KEYS: stream, counter. ARGV: maxlen, then (id, type, auth, data) per event. Numbering and
# appending in one script keeps offsets gap-free and in append order across every sidecar.
_APPEND_SCRIPT: Final = """
local offsets = {}
for i = 2, #ARGV, 4 do
  local n = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], n .. '-0',
             'id', ARGV[i], 'type', ARGV[i + 1], 'auth', ARGV[i + 2], 'data', ARGV[i + 3])
  offsets[#offsets + 1] = n
end
return offsets
"""


def streamed(event: Event) -> StreamedEvent:
    """The streamed form of a committed event (its data as the JSON a webhook delivery carries)."""
    assert event.offset is not None, "only committed events have an offset"
    return StreamedEvent(
        event.id, event.type, event.offset, encode_event_data(event.data).encode(), event.auth
    )


class EventHistory(Protocol):
    """Where subscribers' history lives: appended after each commit, read by offset."""

    async def epoch(self) -> str:
        """The history's epoch: changes only when the history starts over."""
        ...

    async def append(self, events: Sequence[Event]) -> None:
        """Add committed events to the history (a no-op where the store's table is the history)."""
        ...

    async def read_after(self, after: int, limit: int) -> HistoryPage:
        """Up to `limit` events after `after`, oldest first, with whether the history reaches back."""
        ...

    async def wait_after(self, after: int, limit: int, seconds: float) -> list[StreamedEvent]:
        """Events after `after`, waiting up to `seconds` for the first (an empty list when none came)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


async def shared_setting(db: Database, name: str) -> str:
    """A random value kept in `admin_settings` under `name`, made by whichever process asks first."""
    async with db.transaction() as session:
        await session.execute(
            "INSERT INTO admin_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            name,
            secrets.token_hex(16),
        )
        row = await session.fetchrow("SELECT value FROM admin_settings WHERE name = $1", name)
    assert row is not None
    return str(row["value"])


class SqlEventHistory:
    """The `events` table as the history; `committed()` wakes whoever waits for new events."""

    def __init__(self, db: Database, events: EventStore) -> None:
        self._db = db
        self._events = events
        self._epoch = ""
        self._changed = asyncio.Event()

    async def epoch(self) -> str:
        """The epoch row, made once per database."""
        if not self._epoch:
            self._epoch = await shared_setting(self._db, EPOCH_SETTING)
        return self._epoch

    async def append(self, events: Sequence[Event]) -> None:
        """The events are in the table already: only wake the readers."""
        self._changed.set()

    async def read_after(self, after: int, limit: int) -> HistoryPage:
        """A page of the table; it reaches back while no event after `after` has been purged."""
        async with self._db.session() as session:
            row = await session.fetchrow("SELECT MIN(seq) AS low, MAX(seq) AS high FROM events")
        low = None if row is None or row["low"] is None else int(row["low"])
        high = 0 if row is None or row["high"] is None else int(row["high"])
        # An empty table: only a client that saw nothing can be sure it missed nothing.
        reaches_back = after == 0 if low is None else low - 1 <= after <= high
        page = await self._events.list_since(after, min(limit, MAX_EVENTS_PAGE)) if reaches_back else []
        return HistoryPage(await self.epoch(), reaches_back, high, tuple(streamed(e) for e in page))

    async def wait_after(self, after: int, limit: int, seconds: float) -> list[StreamedEvent]:
        """Read; when nothing is new, wait for a commit here (or `seconds`, for other processes' commits)."""
        self._changed.clear()
        page = await self._events.list_since(after, min(limit, MAX_EVENTS_PAGE))
        if not page:
            try:
                async with asyncio.timeout(seconds):
                    await self._changed.wait()
            except TimeoutError:
                pass
            page = await self._events.list_since(after, min(limit, MAX_EVENTS_PAGE))
        return [streamed(e) for e in page]

    async def aclose(self) -> None:
        """Nothing to release: the database belongs to the stores."""


def open_event_history(settings: Settings, db: Database, events: EventStore) -> EventHistory:
    """The Redis Stream when `redis_url` is set, else the events table."""
    if settings.redis_url:
        return RedisEventHistory(
            settings.redis_url, settings.ws_history_length, settings.redis_prefix + "events:"
        )
    return SqlEventHistory(db, events)


class RedisEventHistory:
    """A Redis Stream trimmed to about `max_length` entries, shared by every sidecar on the server.

    Raises StoreUnavailable when Redis cannot be reached.
    """

    def __init__(self, url: str, max_length: int, prefix: str = REDIS_PREFIX) -> None:
        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=2.0, decode_responses=False)
        self._reader = aioredis.Redis.from_url(url, socket_connect_timeout=2.0, decode_responses=False)
        self._stream = prefix + "stream"
        self._counter = prefix + "offset"
        self._epoch_key = prefix + "epoch"
        self._max_length = max_length
        self._epoch = ""
        self._append = self._client.register_script(_APPEND_SCRIPT)

    async def epoch(self) -> str:
        """The epoch key, created once with SET NX (a flushed Redis starts a new epoch)."""
        try:
            await self._client.set(self._epoch_key, secrets.token_hex(16), nx=True)
            value: Any = await self._client.get(self._epoch_key)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"event history unavailable: {type(exc).__name__}") from exc
        self._epoch = value.decode() if value else ""
        return self._epoch

    async def append(self, events: Sequence[Event]) -> None:
        """XADD the events, numbered by the counter, in one script."""
        args: list[str | bytes | int] = [self._max_length]
        for event in events:
            args += [event.id, event.type, "1" if event.auth else "0", encode_event_data(event.data)]
        try:
            await self._append(keys=[self._stream, self._counter], args=args)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"event history unavailable: {type(exc).__name__}") from exc

    async def read_after(self, after: int, limit: int) -> HistoryPage:
        """XRANGE after `after`; it reaches back while the stream's first entry is at most after + 1."""
        try:
            epoch = await self.epoch()
            high = int(await self._client.get(self._counter) or 0)
            first: Any = await self._client.xrange(self._stream, count=1)
            low = _offset(first[0][0]) if first else high + 1
            reaches_back = low - 1 <= after <= high
            entries: Any = []
            if reaches_back:
                entries = await self._client.xrange(self._stream, min=f"({after}-0", count=limit)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"event history unavailable: {type(exc).__name__}") from exc
        return HistoryPage(epoch, reaches_back, high, tuple(_entry(i, f) for i, f in entries))

    async def wait_after(self, after: int, limit: int, seconds: float) -> list[StreamedEvent]:
        """XREAD BLOCK on a connection of its own, so that blocking holds up no other command."""
        try:
            answer: Any = await self._reader.xread(
                {self._stream: f"{after}-0"}, count=limit, block=max(1, int(seconds * 1000))
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"event history unavailable: {type(exc).__name__}") from exc
        return [_entry(i, f) for _, entries in answer or () for i, f in entries]

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._client.aclose()
        await self._reader.aclose()


def _offset(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[0])


def _entry(entry_id: bytes, fields: dict[bytes, bytes]) -> StreamedEvent:
    return StreamedEvent(
        id=fields[b"id"].decode(),
        type=fields[b"type"].decode(),
        offset=_offset(entry_id),
        data_json=fields[b"data"],
        auth=fields[b"auth"] == b"1",
    )
