"""The webhook outbox over any `Database`: claiming due deliveries under a lease, recording attempts.

Imports the store seams and the event store; never a driver. A claim marks rows with its runner
and a lease; PostgreSQL claimers skip rows another has locked (`FOR UPDATE SKIP LOCKED`) and every
change is conditional on still holding the claim, so two sidecars never attempt one delivery at
once. A lease that lapses (its sidecar died mid-attempt) makes the delivery claimable again: at
least once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bridge.events.model import WEBHOOK_DISABLED, Event
from bridge.store.database import Database, Session, utc_now
from bridge.store.sql_event_store import SqlEventStore
from bridge.store.sql_listener_store import SqlListenerStore
from bridge.store.webhook_records import ADMIN_OWNER, Attempt, Listener

EXCERPT_CHARS: Final = 1024

_DUE: Final = (
    "d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)"
)
_SKIP_TAKEN: Final = {"postgresql": " FOR UPDATE OF d SKIP LOCKED", "sqlite": ""}


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery with what an attempt needs: its listener and its event (data in JSON form)."""

    id: str
    attempts: int
    listener: Listener
    event: Event


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """How to record an attempt: retry after `delay` seconds, or finish (delivered or failed).

    Args:
        delay: seconds until the next attempt; None ends the delivery (delivered when `succeeded`).
        disable_reason: disable the listener with this reason (410 Gone) in the same transaction.
    """

    succeeded: bool
    delay: float | None = None
    disable_reason: str | None = None


class SqlOutbox:
    """Due deliveries claimed for a lease, and each attempt recorded with its consequences."""

    def __init__(
        self,
        db: Database,
        events: SqlEventStore,
        listeners: SqlListenerStore,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        self._db = db
        self._events = events
        self._listeners = listeners
        self._clock = clock

    async def claim(
        self,
        runner: str,
        limit: int,
        lease_seconds: float,
        room: Callable[[str], int],
        now: datetime.datetime | None = None,
    ) -> list[DueDelivery]:
        """Claim up to `limit` due deliveries of enabled listeners, oldest due first.

        Args:
            room: how many more attempts a listener may start now (its concurrency cap); a
                listener with none is skipped, so a slow receiver cannot take every slot.
        """
        if limit < 1:
            return []
        moment = now or self._clock()
        at = self._db.encode_time(moment)
        async with self._db.session() as session:
            # Most polls find nothing: a read first spares SQLite's write lock and PostgreSQL a transaction.
            due = await session.fetchrow(
                f"SELECT 1 AS due FROM webhook_deliveries d WHERE {_DUE} LIMIT 1",  # noqa: S608
                at,
            )
        if due is None:
            return []
        lease = self._db.encode_time(moment + datetime.timedelta(seconds=lease_seconds))
        claimed: list[DueDelivery] = []
        taken: dict[str, int] = {}
        async with self._db.transaction() as session:
            rows = await session.fetch(
                "SELECT d.id, d.attempts, d.event_id, d.listener_id FROM webhook_deliveries d"  # noqa: S608
                " JOIN webhook_listeners l ON l.id = d.listener_id"
                f" WHERE {_DUE} AND l.enabled = $3 ORDER BY d.next_attempt_at, d.id LIMIT $2"
                f"{_SKIP_TAKEN[self._db.dialect]}",
                at,
                limit * 4,  # some may belong to listeners without room
                True,
            )
            for row in rows:
                listener_id = row["listener_id"]
                if len(claimed) >= limit or taken.get(listener_id, 0) >= room(listener_id):
                    continue
                changed = await session.execute(
                    f"UPDATE webhook_deliveries SET runner = $2, lease_until = $3 WHERE id = $4"  # noqa: S608
                    f" AND id IN (SELECT d.id FROM webhook_deliveries d WHERE d.id = $4 AND {_DUE})",
                    at,
                    runner,
                    lease,
                    row["id"],
                )
                if changed != 1:
                    continue
                due_delivery = await self._load(
                    session, row["id"], int(row["attempts"]), row["event_id"], listener_id
                )
                if due_delivery is not None:
                    taken[listener_id] = taken.get(listener_id, 0) + 1
                    claimed.append(due_delivery)
        return claimed

    async def _load(
        self, session: Session, delivery_id: str, attempts: int, event_id: str, listener_id: str
    ) -> DueDelivery | None:
        event_row = await session.fetchrow(
            "SELECT seq, id, type, created_at, data, procedure, request_id, username, auth FROM events"
            " WHERE id = $1",
            event_id,
        )
        listener_row = await session.fetchrow(
            "SELECT id, url, event_types, filter, owner, secrets, enabled, created_at, failing_since,"
            " disabled_reason FROM webhook_listeners WHERE id = $1",
            listener_id,
        )
        if event_row is None or listener_row is None:
            return None
        return DueDelivery(
            delivery_id,
            attempts,
            self._listeners.listener_from_row(listener_row),
            self._events.event_from_row(event_row),
        )

    async def record(
        self,
        delivery: DueDelivery,
        runner: str,
        attempt: Attempt,
        outcome: AttemptOutcome,
        disable_after: float,
    ) -> bool:
        """Record one attempt and its consequences in one transaction; False when the claim was lost.

        Success ends the delivery and the listener's failure streak. A failure starts the streak
        (if none), schedules the next attempt or fails the delivery; a listener disabled now (410,
        or failing for `disable_after` seconds) gets a `webhook.disabled` event, committed with it.
        """
        at = self._db.encode_time(attempt.attempted_at)
        committed: tuple[list[Event], int] = ([], 0)
        async with self._db.transaction() as session:
            if outcome.succeeded or outcome.delay is None:
                state = "delivered" if outcome.succeeded else "failed"
                changed = await session.execute(
                    "UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1, finished_at = $4,"
                    " next_attempt_at = NULL, runner = NULL, lease_until = NULL"
                    " WHERE id = $1 AND runner = $2",
                    delivery.id,
                    runner,
                    state,
                    at,
                )
            else:
                due = attempt.attempted_at + datetime.timedelta(seconds=outcome.delay)
                changed = await session.execute(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $3,"
                    " runner = NULL, lease_until = NULL WHERE id = $1 AND runner = $2",
                    delivery.id,
                    runner,
                    self._db.encode_time(due),
                )
            if changed != 1:
                return False
            await session.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempted_at, status, error, duration_ms,"
                " excerpt) VALUES ($1, $2, $3, $4, $5, $6)",
                delivery.id,
                at,
                attempt.status,
                attempt.error,
                attempt.duration_ms,
                attempt.excerpt[:EXCERPT_CHARS],
            )
            reason = await self._streak(session, delivery.listener.id, attempt, outcome, disable_after)
            if reason is not None:
                committed = await self._events.insert(
                    session, [disabled_event(delivery.listener, reason, attempt.attempted_at)]
                )
        await self._events.committed(*committed)
        return True

    async def _streak(
        self,
        session: Session,
        listener_id: str,
        attempt: Attempt,
        outcome: AttemptOutcome,
        disable_after: float,
    ) -> str | None:
        """Update the listener's failure streak; the reason it is disabled now, if it is."""
        at = self._db.encode_time(attempt.attempted_at)
        if outcome.succeeded:
            await session.execute(
                "UPDATE webhook_listeners SET failing_since = NULL WHERE id = $1", listener_id
            )
            return None
        row = await session.fetchrow(
            "UPDATE webhook_listeners SET failing_since = COALESCE(failing_since, $2) WHERE id = $1"
            " RETURNING failing_since, enabled",
            listener_id,
            at,
        )
        if row is None or not row["enabled"]:
            return None
        reason = outcome.disable_reason
        failing = attempt.attempted_at - self._db.decode_time(row["failing_since"])
        if reason is None and failing.total_seconds() >= disable_after:
            reason = f"failing since {self._db.decode_time(row['failing_since']):%Y-%m-%d %H:%M:%S} UTC"
        if reason is None:
            return None
        await session.execute(
            "UPDATE webhook_listeners SET enabled = $2, disabled_reason = $3 WHERE id = $1",
            listener_id,
            False,
            reason,
        )
        return reason

    async def release(self, runner: str) -> int:
        """Give back every delivery `runner` holds, due at once (a graceful stop mid-attempt)."""
        async with self._db.session() as session:
            return await session.execute(
                "UPDATE webhook_deliveries SET runner = NULL, lease_until = NULL"
                " WHERE runner = $1 AND state = 'pending'",
                runner,
            )

    async def depth(self, now: datetime.datetime | None = None) -> tuple[int, float]:
        """Pending deliveries, and the age in seconds of the oldest (0 when none), for metrics."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM webhook_deliveries"
                " WHERE state = 'pending'"
            )
        if row is None or not row["pending"]:
            return 0, 0.0
        oldest = self._db.decode_time(row["oldest"])
        return int(row["pending"]), max(0.0, ((now or self._clock()) - oldest).total_seconds())


def disabled_event(listener: Listener, reason: str, moment: datetime.datetime) -> Event:
    """The `webhook.disabled` event of a listener the bridge disabled (auth: it names a URL)."""
    return Event(
        type=WEBHOOK_DISABLED,
        data={"listener": listener.id, "url": listener.url, "reason": reason},
        timestamp=moment,
        caller=None if listener.owner == ADMIN_OWNER else listener.owner,
        auth=True,
    )
