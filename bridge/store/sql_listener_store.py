"""Webhook listeners and their delivery logs over any `Database`: `webhook_listeners`, `webhook_deliveries`,
`webhook_attempts` as their owners and the operator see them.

Imports the store seams and the key cipher; never a driver. Secrets are sealed like API keys
(`key_encryption_key`). An `owner` argument limits each operation to that owner's listeners (API
users see only their own); None is the operator, who sees every listener.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from typing import Any, Final

from bridge.store.database import Database, Row, utc_now
from bridge.store.key_cipher import KeyCipher
from bridge.store.webhook_records import DELIVERY_FAILED, Attempt, Delivery, Listener, ListenerSecret

LISTENER_PREFIX: Final = "lst_"
MAX_PAGE: Final = 1000

# The S608 exemptions below: SQL is assembled only from these constant column lists, the owner
# clause and numbered placeholders; every value travels as a bound parameter.
_LISTENER_COLUMNS: Final = (
    "id, url, event_types, filter, owner, secrets, enabled, created_at, failing_since, disabled_reason"
)
_DELIVERY_COLUMNS: Final = (
    "d.id, d.listener_id, d.event_id, e.type AS event_type, d.state, d.attempts, d.created_at,"
    " d.next_attempt_at, d.finished_at"
)
# `column = $n`, or true when `$n` is NULL: an owner of None is the operator, who sees every listener.
_EQUALS_UNLESS_NULL: Final = "(CAST(${n} AS TEXT) IS NULL OR {column} = ${n})"
_DELIVERY_FROM: Final = (
    "webhook_deliveries d JOIN events e ON e.id = d.event_id JOIN webhook_listeners l ON l.id = d.listener_id"
)


def new_listener_id() -> str:
    """A listener id: `lst_` and 32 hex digits."""
    return LISTENER_PREFIX + uuid.uuid4().hex


class SqlListenerStore:
    """Listeners (add, list, enable, rotate, remove) and their deliveries (log, redeliver)."""

    def __init__(
        self, db: Database, cipher: KeyCipher, clock: Callable[[], datetime.datetime] = utc_now
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._clock = clock

    def _time(self, raw: Any) -> datetime.datetime | None:
        return None if raw is None else self._db.decode_time(raw)

    def _seal(self, secrets: tuple[ListenerSecret, ...]) -> str:
        return json.dumps(
            [
                {
                    "secret": self._cipher.seal(s.secret),
                    "expires_at": None if s.expires_at is None else s.expires_at.isoformat(),
                }
                for s in secrets
            ]
        )

    def _open(self, stored: str) -> tuple[ListenerSecret, ...]:
        return tuple(
            ListenerSecret(
                self._cipher.open(item["secret"]),
                None if item["expires_at"] is None else datetime.datetime.fromisoformat(item["expires_at"]),
            )
            for item in json.loads(stored)
        )

    def listener_from_row(self, row: Row) -> Listener:
        """A listener as stored (its secrets opened)."""
        return Listener(
            id=row["id"],
            url=row["url"],
            event_types=tuple(json.loads(row["event_types"])),
            filter=json.loads(row["filter"]),
            owner=row["owner"],
            secrets=self._open(row["secrets"]),
            created_at=self._db.decode_time(row["created_at"]),
            enabled=bool(row["enabled"]),
            failing_since=self._time(row["failing_since"]),
            disabled_reason=row["disabled_reason"],
        )

    async def add(self, listener: Listener) -> None:
        """Store a new listener (its URL and filter already checked)."""
        async with self._db.session() as session:
            await session.execute(
                f"INSERT INTO webhook_listeners ({_LISTENER_COLUMNS})"  # noqa: S608
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                listener.id,
                listener.url,
                json.dumps(list(listener.event_types)),
                json.dumps(dict(listener.filter), separators=(",", ":")),
                listener.owner,
                self._seal(listener.secrets),
                listener.enabled,
                self._db.encode_time(listener.created_at),
                None if listener.failing_since is None else self._db.encode_time(listener.failing_since),
                listener.disabled_reason,
            )

    async def get(self, listener_id: str, owner: str | None = None) -> Listener | None:
        """The listener with this id (of this owner, when given), or None."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                f"SELECT {_LISTENER_COLUMNS} FROM webhook_listeners"  # noqa: S608
                " WHERE id = $1 AND (CAST($2 AS TEXT) IS NULL OR owner = $2)",
                listener_id,
                owner,
            )
        return None if row is None else self.listener_from_row(row)

    async def list_listeners(self, owner: str | None = None) -> list[Listener]:
        """Every listener (of this owner, when given), oldest first."""
        async with self._db.session() as session:
            rows = await session.fetch(
                f"SELECT {_LISTENER_COLUMNS} FROM webhook_listeners"  # noqa: S608
                " WHERE " + _EQUALS_UNLESS_NULL.format(n=1, column="owner") + " ORDER BY created_at, id",
                owner,
            )
        return [self.listener_from_row(row) for row in rows]

    async def remove(self, listener_id: str, owner: str | None = None) -> bool:
        """Delete a listener with its deliveries and their attempts; False when there is no such listener."""
        async with self._db.session() as session:
            return (
                await session.execute(
                    "DELETE FROM webhook_listeners WHERE id = $1 AND "  # noqa: S608
                    + _EQUALS_UNLESS_NULL.format(n=2, column="owner"),
                    listener_id,
                    owner,
                )
                == 1
            )

    async def set_enabled(
        self, listener_id: str, enabled: bool, reason: str | None = None, owner: str | None = None
    ) -> bool:
        """Enable (clearing its failure streak) or disable a listener, saying why; False when unknown."""
        async with self._db.session() as session:
            return (
                await session.execute(
                    "UPDATE webhook_listeners SET enabled = $2, disabled_reason = $3,"
                    " failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END"
                    " WHERE id = $1 AND (CAST($4 AS TEXT) IS NULL OR owner = $4)",
                    listener_id,
                    enabled,
                    None if enabled else reason or "disabled by hand",
                    owner,
                )
                == 1
            )

    async def rotate_secret(
        self,
        listener_id: str,
        secret: str,
        overlap_seconds: float,
        owner: str | None = None,
        now: datetime.datetime | None = None,
    ) -> bool:
        """Make `secret` the newest; older secrets keep signing for `overlap_seconds`, then are dropped."""
        moment = now or self._clock()
        until = moment + datetime.timedelta(seconds=overlap_seconds)
        async with self._db.transaction() as session:
            row = await session.fetchrow(
                "SELECT secrets FROM webhook_listeners WHERE id = $1 AND "  # noqa: S608
                + _EQUALS_UNLESS_NULL.format(n=2, column="owner"),
                listener_id,
                owner,
            )
            if row is None:
                return False
            kept = tuple(
                ListenerSecret(s.secret, until if s.expires_at is None else min(s.expires_at, until))
                for s in self._open(row["secrets"])
                if s.expires_at is None or s.expires_at > moment
            )
            await session.execute(
                "UPDATE webhook_listeners SET secrets = $2 WHERE id = $1",
                listener_id,
                self._seal((ListenerSecret(secret), *kept)),
            )
        return True

    def _delivery(self, row: Row) -> Delivery:
        return Delivery(
            id=row["id"],
            listener_id=row["listener_id"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            state=row["state"],
            attempts=int(row["attempts"]),
            created_at=self._db.decode_time(row["created_at"]),
            next_attempt_at=self._time(row["next_attempt_at"]),
            finished_at=self._time(row["finished_at"]),
        )

    async def deliveries(
        self,
        listener_id: str | None = None,
        failed_only: bool = False,
        owner: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """The newest deliveries (of one listener, failed only, of one owner's listeners), newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1..{MAX_PAGE}")
        async with self._db.session() as session:
            rows = await session.fetch(
                f"SELECT {_DELIVERY_COLUMNS} FROM {_DELIVERY_FROM}"  # noqa: S608
                f" WHERE {_EQUALS_UNLESS_NULL.format(n=1, column='d.listener_id')}"
                f" AND {_EQUALS_UNLESS_NULL.format(n=2, column='d.state')}"
                f" AND {_EQUALS_UNLESS_NULL.format(n=3, column='l.owner')}"
                " ORDER BY d.created_at DESC, d.id LIMIT $4",
                listener_id,
                DELIVERY_FAILED if failed_only else None,
                owner,
                limit,
            )
        return [self._delivery(row) for row in rows]

    async def get_delivery(self, delivery_id: str, owner: str | None = None) -> Delivery | None:
        """One delivery (of one owner's listeners, when given), or None."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                f"SELECT {_DELIVERY_COLUMNS} FROM {_DELIVERY_FROM}"  # noqa: S608
                " WHERE d.id = $1 AND (CAST($2 AS TEXT) IS NULL OR l.owner = $2)",
                delivery_id,
                owner,
            )
        return None if row is None else self._delivery(row)

    async def attempts(self, delivery_id: str) -> list[Attempt]:
        """Every attempt of a delivery, oldest first."""
        async with self._db.session() as session:
            rows = await session.fetch(
                "SELECT delivery_id, attempted_at, status, error, duration_ms, excerpt FROM webhook_attempts"
                " WHERE delivery_id = $1 ORDER BY id",
                delivery_id,
            )
        return [
            Attempt(
                delivery_id=row["delivery_id"],
                attempted_at=self._db.decode_time(row["attempted_at"]),
                status=None if row["status"] is None else int(row["status"]),
                error=row["error"],
                duration_ms=float(row["duration_ms"]),
                excerpt=row["excerpt"],
            )
            for row in rows
        ]

    async def redeliver(
        self, delivery_id: str, owner: str | None = None, now: datetime.datetime | None = None
    ) -> bool:
        """Queue a delivery again, due now, with a fresh retry schedule (same event, so same webhook-id)."""
        async with self._db.session() as session:
            return (
                await session.execute(
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2,"
                    " finished_at = NULL, runner = NULL, lease_until = NULL WHERE id = $1"
                    " AND (CAST($3 AS TEXT) IS NULL OR listener_id IN"
                    " (SELECT id FROM webhook_listeners WHERE owner = $3))",
                    delivery_id,
                    self._db.encode_time(now or self._clock()),
                    owner,
                )
                == 1
            )

    async def redeliver_failed_since(
        self,
        listener_id: str,
        since: datetime.datetime,
        owner: str | None = None,
        now: datetime.datetime | None = None,
    ) -> int:
        """Queue again every failed delivery of a listener created at or after `since`; return how many."""
        async with self._db.session() as session:
            return await session.execute(
                "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3,"
                " finished_at = NULL, runner = NULL, lease_until = NULL"
                " WHERE listener_id = $1 AND state = 'failed' AND created_at >= $2"
                " AND (CAST($4 AS TEXT) IS NULL"
                " OR listener_id IN (SELECT id FROM webhook_listeners WHERE owner = $4))",
                listener_id,
                self._db.encode_time(since),
                self._db.encode_time(now or self._clock()),
                owner,
            )
