"""Events and the webhook outbox over any `Database`: committing events with their deliveries.

Imports the store seams and the pure event building blocks; never a driver. Each event is written
with one `webhook_deliveries` row per enabled listener whose event types and filter match it, in
the caller's transaction, so an event is never committed without its deliveries (DESIGN.md, Events).
Concurrent `commit` calls share one transaction (group commit): the cost is paid per batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final, NamedTuple

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

# Events per INSERT statement: 8 parameters each stays far below SQLite's 32,766 and PostgreSQL's 32,767.
_EVENTS_PER_STATEMENT: Final = 100

# The S608 exemptions below: SQL is assembled only from these constant column lists and numbered
# placeholders; every value travels as a bound parameter.
_EVENT_COLUMNS: Final = "id, type, created_at, data, procedure, request_id, username, auth"

Publish = Callable[[Sequence[Event]], Awaitable[None]]
"""Live fan-out of committed events (WebSocket subscribers); called after their transaction commits."""


def new_delivery_id() -> str:
    """A delivery id: `dlv_` and 32 hex digits."""
    return DELIVERY_PREFIX + uuid.uuid4().hex


class _Matcher(NamedTuple):
    """An enabled listener as matching needs it: its event types (None: all) and compiled filter."""

    event_types: frozenset[str] | None
    filter: EventFilter | None

    def matches(self, event: Event) -> bool:
        """True when the event's type is one of the listener's and its filter takes the whitelisted data."""
        if self.event_types is not None and event.type not in self.event_types:
            return False
        return self.filter is not None and self.filter.matches(event.data)


_Pending = tuple[Sequence[Event], asyncio.Future[list[Event]]]


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
        # Enabled listeners by id. A listener's event types and filter never change once stored
        # (only `enabled`, secrets and failure state do), so an entry stays right for as long as
        # its id is enabled: each write reads only the enabled ids, and whole rows when one is new.
        self._matchers: dict[str, _Matcher] = {}
        self._pending: list[_Pending] = []
        self._committer: asyncio.Task[None] | None = None

    async def commit(self, events: Sequence[Event]) -> list[Event]:
        """Write the events and their deliveries in one transaction, then publish; the events with offsets.

        Commits asked for in the same event-loop turn, or while a commit is in flight, are written
        together in the next transaction; each returns once that transaction has committed, and
        each raises the store's error when it fails.
        """
        if not events:
            return []
        future: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        self._pending.append((events, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        return await future

    async def _commit_pending(self) -> None:
        """Commit the waiting batches one transaction each, until none is waiting."""
        try:
            while self._pending:
                # A caller cancelled before its turn (its call gave up) has nothing committed, as before.
                batch = [(events, future) for events, future in self._pending if not future.done()]
                self._pending = []
                if batch:
                    await self._commit_batch(batch)
        finally:
            self._committer = None
            # Only when the committer itself was cancelled (shutdown): no caller is left waiting.
            for _, future in self._pending:
                future.cancel()
            self._pending = []

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        """One transaction for every call's events; each call's future gets its own events or the error."""
        try:
            async with self._db.transaction() as session:
                written, deliveries = await self.insert(session, [e for events, _ in batch for e in events])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        try:
            await self.committed(written, deliveries)
        except Exception:  # committed is committed: the calls are answered all the same
            log.exception("telling about %d committed events failed", len(written))
        start = 0
        for events, future in batch:
            if not future.done():
                future.set_result(written[start : start + len(events)])
            start += len(events)

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
        matchers = await self._enabled_listeners(session)
        now = self._db.encode_time(self._clock())
        written: list[Event] = []
        for start in range(0, len(events), _EVENTS_PER_STATEMENT):
            written += await self._insert_events(session, events[start : start + _EVENTS_PER_STATEMENT])
        deliveries = [
            (new_delivery_id(), listener_id, event.id, 0, now, now)
            for event in written
            for listener_id, matcher in matchers.items()
            if matcher.matches(event)
        ]
        if deliveries:
            await session.executemany(
                "INSERT INTO webhook_deliveries (id, listener_id, event_id, attempts, created_at,"
                " next_attempt_at, state) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
                deliveries,
            )
        return written, len(deliveries)

    async def _insert_events(self, session: Session, events: Sequence[Event]) -> list[Event]:
        """Insert events with one statement; the events with the offsets the database gave them."""
        values = ", ".join(
            "(" + ", ".join(f"${8 * row + column}" for column in range(1, 9)) + ")"
            for row in range(len(events))
        )
        args: list[object] = []
        for event in events:
            args += (
                event.id,
                event.type,
                self._db.encode_time(event.timestamp),
                encode_event_data(event.data),
                event.procedure or "",
                event.request_id or "",
                event.caller or "",
                event.auth,
            )
        rows = await session.fetch(
            f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES {values} RETURNING id, seq",  # noqa: S608
            *args,
        )
        # Neither SQLite nor PostgreSQL promises RETURNING's row order: offsets are matched by id.
        offsets = {row["id"]: int(row["seq"]) for row in rows}
        return [dataclasses.replace(event, offset=offsets[event.id]) for event in events]

    async def _enabled_listeners(self, session: Session) -> dict[str, _Matcher]:
        """The enabled listeners as of this transaction, reading whole rows only for ids not yet known.

        Read in the writing transaction, so a listener committed before it (by this process, the
        CLI or another sidecar) gets deliveries for every event it writes, with no delay.
        """
        enabled = await session.fetch("SELECT id FROM webhook_listeners WHERE enabled = $1", True)
        ids = [row["id"] for row in enabled]
        if any(listener_id not in self._matchers for listener_id in ids):
            rows = await session.fetch(
                "SELECT id, event_types, filter FROM webhook_listeners WHERE enabled = $1", True
            )
            self._matchers = {row["id"]: self._matcher(row) for row in rows}
        return {
            listener_id: self._matchers[listener_id] for listener_id in ids if listener_id in self._matchers
        }

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

    def _matcher(self, row: Row) -> _Matcher:
        """A listener row's event types and compiled filter; an unreadable filter matches nothing."""
        types = json.loads(row["event_types"])
        try:
            compiled: EventFilter | None = compile_filter(json.loads(row["filter"]))
        except (InvalidFilter, ValueError):  # checked at registration: only a hand-edited row
            log.error("webhook listener %s has an invalid stored filter: %.200s", row["id"], row["filter"])
            compiled = None
        return _Matcher(None if ALL_EVENTS in types else frozenset(types), compiled)

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
