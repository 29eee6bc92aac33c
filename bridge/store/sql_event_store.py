"""Events and the webhook outbox over any `Database`: committing events with their deliveries.

Imports the store seams and the pure event building blocks; never a driver. Each event is written
with one `webhook_deliveries` row per enabled listener whose event types and filter match it, in
the caller's transaction, so an event is never committed without its deliveries (DESIGN.md, Events).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final

from bridge.events.delivery_body import encode_event_data
from bridge.events.filters import EventFilter, InvalidFilter, compile_filter
from bridge.events.model import Event
from bridge.store.database import Database, Row, Session, utc_now

log = logging.getLogger("rpcbridge.events")

MAX_EVENTS_PAGE: Final = 1000
ALL_EVENTS: Final = "*"
DELIVERY_PREFIX: Final = "dlv_"

# pg_advisory_xact_lock key "rpcbevnt": event writers take it so that offsets commit in order (below).
EVENTS_LOCK_KEY: Final = int.from_bytes(b"rpcbevnt", "big") - (1 << 63)

# The S608 exemptions below: SQL is assembled only from these constant column lists and numbered
# placeholders; every value travels as a bound parameter.
_EVENT_COLUMNS: Final = "id, type, created_at, data, procedure, request_id, username, auth"

Publish = Callable[[Sequence[Event]], Awaitable[None]]
"""Live fan-out of committed events (WebSocket subscribers); called after their transaction commits."""


def new_delivery_id() -> str:
    """A delivery id: `dlv_` and 32 hex digits."""
    return DELIVERY_PREFIX + uuid.uuid4().hex


class SqlEventStore:
    """Events in `events` (offsets in commit order), each committed with its webhook deliveries.

    Args:
        publish: called with the committed events after every transaction that wrote some, in
            commit order (the realtime fan-out plugs in here; None: nobody listens live). A
            failing publish is logged, never raised: the events are already committed.
        on_committed: called after each such commit with the number of deliveries written
            (wakes the delivery loop, counts metrics).
    """

    def __init__(
        self,
        db: Database,
        publish: Publish | None = None,
        on_committed: Callable[[Sequence[Event], int], None] | None = None,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        self._db = db
        self._publish = publish
        self._on_committed = on_committed
        self._clock = clock
        self._filters: dict[str, EventFilter | None] = {}

    async def commit(self, events: Sequence[Event]) -> list[Event]:
        """Write the events and their deliveries in one transaction, then publish; the events with offsets."""
        if not events:
            return []
        async with self._db.transaction() as session:
            committed, deliveries = await self.insert(session, events)
        await self.committed(committed, deliveries)
        return committed

    async def insert(self, session: Session, events: Sequence[Event]) -> tuple[list[Event], int]:
        """Write events and deliveries in the caller's transaction; return the events and the delivery count.

        The caller must call `committed` once the transaction has committed. PostgreSQL hands out
        identity values when rows are inserted, not when they commit, so two writers could commit
        offsets 8 and 7 in that order and a reader polling `list_since(7)` would miss 7 forever. A
        transaction-scoped lock makes event writers take turns, so offsets commit in order. SQLite's
        one write transaction at a time gives the same order by itself.
        """
        if self._db.dialect == "postgresql":
            await session.execute("SELECT pg_advisory_xact_lock($1)", EVENTS_LOCK_KEY)
        listeners = await session.fetch(
            "SELECT id, event_types, filter FROM webhook_listeners WHERE enabled = $1", True
        )
        now = self._db.encode_time(self._clock())
        written: list[Event] = []
        deliveries: list[tuple[str, str, str, int, object, object]] = []
        for event in events:
            row = await session.fetchrow(
                f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"  # noqa: S608
                " RETURNING seq",
                event.id,
                event.type,
                self._db.encode_time(event.timestamp),
                encode_event_data(event.data),
                event.procedure or "",
                event.request_id or "",
                event.caller or "",
                event.auth,
            )
            assert row is not None
            written.append(dataclasses.replace(event, offset=int(row["seq"])))
            deliveries += [
                (new_delivery_id(), listener["id"], event.id, 0, now, now)
                for listener in listeners
                if self._matches(listener, event)
            ]
        if deliveries:
            await session.executemany(
                "INSERT INTO webhook_deliveries (id, listener_id, event_id, attempts, created_at,"
                " next_attempt_at, state) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
                deliveries,
            )
        return written, len(deliveries)

    async def committed(self, events: Sequence[Event], deliveries: int) -> None:
        """Tell the outbox and live subscribers about events whose transaction has committed."""
        if not events:
            return
        if self._on_committed is not None:
            self._on_committed(events, deliveries)
        if self._publish is not None:
            try:
                await self._publish(events)
            except Exception:  # the events are committed; live fan-out recovers from the store
                log.exception("publishing %d committed events failed", len(events))

    def _matches(self, listener: Row, event: Event) -> bool:
        """True when a listener row's event types and filter take the event (over its whitelisted data)."""
        types = json.loads(listener["event_types"])
        if ALL_EVENTS not in types and event.type not in types:
            return False
        compiled = self._compiled(listener["filter"])
        return compiled is not None and compiled.matches(event.data)

    def _compiled(self, spec: str) -> EventFilter | None:
        """The compiled filter for a stored spec, cached by its JSON; None (matches nothing) if unreadable."""
        if spec not in self._filters:
            if len(self._filters) > 1024:
                self._filters.clear()
            try:
                self._filters[spec] = compile_filter(json.loads(spec))
            except (InvalidFilter, ValueError):  # checked at registration: only a hand-edited row
                log.error("a webhook listener has an invalid stored filter: %.200s", spec)
                self._filters[spec] = None
        return self._filters[spec]

    async def list_since(self, after: int = 0, limit: int = 100) -> list[Event]:
        """Up to `limit` events whose offset is greater than `after`, in offset (commit) order."""
        return await self._page("WHERE seq > $2 ORDER BY seq", limit, after)

    async def list_recent(self, limit: int = 100) -> list[Event]:
        """The newest `limit` events, newest first (the admin console's recent events)."""
        return await self._page("ORDER BY seq DESC", limit)

    async def _page(self, clause: str, limit: int, *args: object) -> list[Event]:
        """Up to `limit` events selected by a constant `clause` whose own parameters start at $2."""
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise ValueError(f"limit must be 1..{MAX_EVENTS_PAGE}")
        async with self._db.session() as session:
            rows = await session.fetch(
                f"SELECT seq, {_EVENT_COLUMNS} FROM events {clause} LIMIT $1",  # noqa: S608
                limit,
                *args,
            )
        return [self.event_from_row(row) for row in rows]

    async def get(self, event_id: str) -> Event | None:
        """The event with this `evt_` id, or None."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                f"SELECT seq, {_EVENT_COLUMNS} FROM events WHERE id = $1",  # noqa: S608
                event_id,
            )
        return None if row is None else self.event_from_row(row)

    def event_from_row(self, row: Row) -> Event:
        """An event read back: its data is the JSON form the delivery body carries."""
        data: Mapping[str, object] = json.loads(row["data"])
        return Event(
            id=row["id"],
            type=row["type"],
            timestamp=self._db.decode_time(row["created_at"]),
            data=data,
            procedure=row["procedure"] or None,
            request_id=row["request_id"] or None,
            caller=row["username"] or None,
            auth=bool(row["auth"]),
            offset=int(row["seq"]),
        )

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        """Delete events older than `days` with their deliveries and attempts; return how many events."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        cutoff = self._db.encode_time((now or self._clock()) - datetime.timedelta(days=days))
        async with self._db.transaction() as session:
            return await session.execute("DELETE FROM events WHERE created_at < $1", cutoff)
