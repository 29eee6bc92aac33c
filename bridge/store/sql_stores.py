"""The user, call-log and admin stores over any `Database` (SQLite or PostgreSQL).

Imports the store seams and `bridge.store.key_cipher`; never a driver. SQL is written once in
the subset both dialects share (`$n` placeholders, `ON CONFLICT`, `LIMIT/OFFSET`). Reads go to
the database each time, so a change made by `rpcbridge users` in another process shows at once.
"""

from __future__ import annotations

import datetime
import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Final

from bridge.store.call_stats import call_stats
from bridge.store.database import Database, Row, utc_now
from bridge.store.interfaces import DuplicateUserError, InvalidUserError, UnknownUserError
from bridge.store.key_cipher import KeyCipher
from bridge.store.records import (
    ActiveUser,
    CallFilter,
    CallPage,
    CallRecord,
    CallStats,
    User,
    check_key,
    check_scopes,
    check_username,
)

MAX_PAGE: Final = 1000
_ADMIN_PASSWORD: Final = "admin_password_hash"  # noqa: S105 -- a row name, not a password


def new_api_key() -> str:
    """A fresh random API key: 32 bytes from `secrets`, urlsafe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


class SqlUserStore:
    """API users and their (sealed) keys in the `users` and `api_keys` tables."""

    def __init__(
        self, db: Database, cipher: KeyCipher, clock: Callable[[], datetime.datetime] = utc_now
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._clock = clock

    def _user(self, row: Row) -> User:
        return User(
            username=row["username"],
            enabled=bool(row["enabled"]),
            scopes=tuple(json.loads(row["scopes"])),
            created_at=self._db.decode_time(row["created_at"]),
        )

    async def add_user(self, username: str, key: str | None = None, scopes: Sequence[str] = ()) -> str:
        """Create an enabled user and return its API key (a new random one when `key` is None)."""
        try:
            check_username(username)
            key = new_api_key() if key is None else check_key(key)
            patterns = check_scopes(scopes)
        except ValueError as exc:
            raise InvalidUserError(str(exc)) from exc
        now = self._db.encode_time(self._clock())
        async with self._db.transaction() as session:
            inserted = await session.execute(
                "INSERT INTO users (username, enabled, scopes, created_at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (username) DO NOTHING",
                username,
                True,
                json.dumps(list(patterns)),
                now,
            )
            if not inserted:
                raise DuplicateUserError(f"user {username!r} already exists")
            await session.execute(
                "INSERT INTO api_keys (username, sealed_key, created_at) VALUES ($1, $2, $3)",
                username,
                self._cipher.seal(key),
                now,
            )
        return key

    async def get(self, username: str) -> User | None:
        """The user with this name, or None."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                "SELECT username, enabled, scopes, created_at FROM users WHERE username = $1", username
            )
        return None if row is None else self._user(row)

    async def active_keys(self, username: str) -> list[str]:
        """The user's unrevoked API keys in plain text, oldest first (empty for unknown users)."""
        return [key for _, key in await self.active_keys_by_id(username)]

    async def active_keys_by_id(self, username: str) -> list[tuple[int, str]]:
        """The user's unrevoked API keys with their ids, oldest first (empty for unknown users)."""
        async with self._db.session() as session:
            rows = await session.fetch(
                "SELECT id, sealed_key FROM api_keys WHERE username = $1 AND revoked_at IS NULL ORDER BY id",
                username,
            )
        return [(int(row["id"]), self._cipher.open(row["sealed_key"])) for row in rows]

    async def active_credentials(self) -> dict[str, ActiveUser]:
        """Every enabled user's scopes and active key ids (what keeps a WebSocket's token valid)."""
        async with self._db.session() as session:
            rows = await session.fetch(
                "SELECT u.username, u.scopes, k.id FROM users u"
                " LEFT JOIN api_keys k ON k.username = u.username AND k.revoked_at IS NULL"
                " WHERE u.enabled = $1",
                True,
            )
        found: dict[str, tuple[tuple[str, ...], set[int]]] = {}
        for row in rows:
            _, keys = found.setdefault(row["username"], (tuple(json.loads(row["scopes"])), set()))
            if row["id"] is not None:
                keys.add(int(row["id"]))
        return {name: ActiveUser(scopes, frozenset(keys)) for name, (scopes, keys) in found.items()}

    async def list_users(self) -> list[User]:
        """Every user, ordered by name."""
        async with self._db.session() as session:
            rows = await session.fetch(
                "SELECT username, enabled, scopes, created_at FROM users ORDER BY username"
            )
        return [self._user(row) for row in rows]

    async def set_enabled(self, username: str, enabled: bool) -> None:
        """Enable or disable a user; a disabled user cannot authenticate."""
        async with self._db.session() as session:
            changed = await session.execute(
                "UPDATE users SET enabled = $2 WHERE username = $1", username, bool(enabled)
            )
        if not changed:
            raise UnknownUserError(f"no user {username!r}")

    async def set_scopes(self, username: str, scopes: Sequence[str]) -> None:
        """Replace the user's procedure patterns; empty allows every procedure."""
        try:
            patterns = check_scopes(scopes)
        except ValueError as exc:
            raise InvalidUserError(str(exc)) from exc
        async with self._db.session() as session:
            changed = await session.execute(
                "UPDATE users SET scopes = $2 WHERE username = $1", username, json.dumps(list(patterns))
            )
        if not changed:
            raise UnknownUserError(f"no user {username!r}")

    async def delete_user(self, username: str) -> None:
        """Remove the user and all its keys; the call log keeps the name in past rows."""
        async with self._db.session() as session:
            # api_keys rows go with the user (ON DELETE CASCADE).
            deleted = await session.execute("DELETE FROM users WHERE username = $1", username)
        if not deleted:
            raise UnknownUserError(f"no user {username!r}")

    async def rotate_key(self, username: str, key: str | None = None) -> str:
        """Add a new active key and return it; older keys stay active until revoked."""
        try:
            key = new_api_key() if key is None else check_key(key)
        except ValueError as exc:
            raise InvalidUserError(str(exc)) from exc
        async with self._db.transaction() as session:
            if await session.fetchrow("SELECT 1 AS found FROM users WHERE username = $1", username) is None:
                raise UnknownUserError(f"no user {username!r}")
            await session.execute(
                "INSERT INTO api_keys (username, sealed_key, created_at) VALUES ($1, $2, $3)",
                username,
                self._cipher.seal(key),
                self._db.encode_time(self._clock()),
            )
        return key

    async def revoke_keys(self, username: str, keep_newest: int = 1) -> int:
        """Revoke all but the `keep_newest` newest active keys; return how many were revoked."""
        if keep_newest < 0:
            raise InvalidUserError("keep_newest must be 0 or more")
        async with self._db.transaction() as session:
            if await session.fetchrow("SELECT 1 AS found FROM users WHERE username = $1", username) is None:
                raise UnknownUserError(f"no user {username!r}")
            return await session.execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE username = $1 AND revoked_at IS NULL"
                " AND id NOT IN (SELECT id FROM api_keys WHERE username = $1 AND revoked_at IS NULL"
                " ORDER BY id DESC LIMIT $3)",
                username,
                self._db.encode_time(self._clock()),
                keep_newest,
            )


# The S608 exemptions below: SQL is assembled only from these constant column names and numbered
# placeholders; every value travels as a bound parameter.
_CALL_COLUMNS: Final = (
    "called_at, direction, protocol, procedure, username, peer, request_id, outcome, fault_code,"
    " status, duration_ms, request_bytes, response_bytes, arguments, result, trace_id"
)


class SqlCallLogStore:
    """The call log in the `call_log` table."""

    def __init__(self, db: Database, clock: Callable[[], datetime.datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    def _row_values(self, record: CallRecord) -> tuple[Any, ...]:
        return (
            self._db.encode_time(record.at),
            record.direction,
            record.protocol,
            record.procedure,
            record.user,
            record.peer,
            record.request_id,
            record.outcome,
            record.fault_code,
            record.status,
            float(record.duration_ms),
            int(record.request_bytes),
            int(record.response_bytes),
            record.arguments,
            record.result,
            record.trace_id,
        )

    def _record(self, row: Row) -> CallRecord:
        return CallRecord(
            id=int(row["id"]),
            at=self._db.decode_time(row["called_at"]),
            direction=row["direction"],
            protocol=row["protocol"],
            procedure=row["procedure"],
            user=row["username"],
            peer=row["peer"],
            request_id=row["request_id"],
            outcome=row["outcome"],
            fault_code=row["fault_code"],
            status=row["status"],
            duration_ms=float(row["duration_ms"]),
            request_bytes=int(row["request_bytes"]),
            response_bytes=int(row["response_bytes"]),
            arguments=row["arguments"],
            result=row["result"],
            trace_id=row["trace_id"],
        )

    async def write_many(self, records: Sequence[CallRecord]) -> None:
        """Store the records atomically (all or none); their `id` fields are ignored."""
        if not records:
            return
        async with self._db.transaction() as session:
            await session.executemany(
                f"INSERT INTO call_log ({_CALL_COLUMNS}) VALUES"  # noqa: S608
                " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                [self._row_values(record) for record in records],
            )

    async def query(self, filters: CallFilter, limit: int = 50, offset: int = 0) -> CallPage:
        """One page of matching records, newest first, with the total number of matches."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_PAGE} and offset at least 0")
        conditions: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("procedure", filters.procedure),
            ("username", filters.user),
            ("outcome", filters.outcome),
            ("direction", filters.direction),
            ("request_id", filters.request_id),
            ("trace_id", filters.trace_id),
        ):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        if filters.since is not None:
            args.append(self._db.encode_time(filters.since))
            conditions.append(f"called_at >= ${len(args)}")
        if filters.until is not None:
            args.append(self._db.encode_time(filters.until))
            conditions.append(f"called_at < ${len(args)}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        page = f" ORDER BY called_at DESC, id DESC LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}"
        async with self._db.session() as session:
            counted = await session.fetchrow(
                f"SELECT COUNT(*) AS total FROM call_log{where}",  # noqa: S608
                *args,
            )
            rows = await session.fetch(
                f"SELECT id, {_CALL_COLUMNS} FROM call_log{where}{page}",  # noqa: S608
                *args,
                limit,
                offset,
            )
        total = int(counted["total"]) if counted else 0
        return CallPage(tuple(self._record(row) for row in rows), total)

    async def get(self, record_id: int) -> CallRecord | None:
        """The record with this id, or None."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                f"SELECT id, {_CALL_COLUMNS} FROM call_log WHERE id = $1",  # noqa: S608
                record_id,
            )
        return None if row is None else self._record(row)

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        """Delete records that started more than `days` before `now`; return how many."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        cutoff = (now or self._clock()) - datetime.timedelta(days=days)
        async with self._db.session() as session:
            return await session.execute(
                "DELETE FROM call_log WHERE called_at < $1", self._db.encode_time(cutoff)
            )

    async def stats(
        self, since: datetime.datetime, until: datetime.datetime, bucket_seconds: int, top: int = 10
    ) -> CallStats:
        """Incoming traffic over [since, until) by `bucket_seconds`, and its `top` procedures and faults."""
        return await call_stats(self._db, since, until, bucket_seconds, top)


class SqlAdminStore:
    """The admin password hash, one row of the `admin_settings` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_password_hash(self) -> str | None:
        """The stored hash, or None when no admin password has been set."""
        async with self._db.session() as session:
            row = await session.fetchrow("SELECT value FROM admin_settings WHERE name = $1", _ADMIN_PASSWORD)
        return None if row is None else str(row["value"])

    async def set_password_hash(self, password_hash: str) -> None:
        """Store (replace) the hash."""
        async with self._db.session() as session:
            await session.execute(
                "INSERT INTO admin_settings (name, value) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                _ADMIN_PASSWORD,
                password_hash,
            )

    async def revoke_session(self, session_id: str, expires_at: datetime.datetime) -> None:
        """Refuse this session on every sidecar until `expires_at`; forget revocations past theirs."""
        async with self._db.transaction() as session:
            await session.execute(
                "DELETE FROM admin_session_revocations WHERE expires_at < $1", self._db.encode_time(utc_now())
            )
            await session.execute(
                "INSERT INTO admin_session_revocations (session_id, expires_at) VALUES ($1, $2)"
                " ON CONFLICT (session_id) DO NOTHING",
                session_id,
                self._db.encode_time(expires_at),
            )

    async def session_revoked(self, session_id: str) -> bool:
        """True when the session was logged out."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                "SELECT 1 AS revoked FROM admin_session_revocations WHERE session_id = $1", session_id
            )
        return row is not None
