"""Schema migrations: a numbered list per dialect, recorded in `schema_version`, applied on open
(or by `rpcbridge db migrate` alone, when `auto_migrate` is false).

Imports only the store seams. Applying is idempotent and safe when several processes open the
same database at once: the whole check-and-apply runs in one transaction that first takes a
lock (SQLite: `BEGIN IMMEDIATE`, the database write lock; PostgreSQL: a transaction-scoped
advisory lock), so the second process waits and then finds nothing left to do. Migrations are
append-only: never edit one that has shipped, add the next number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bridge.store.database import Database, utc_now
from bridge.store.interfaces import SchemaError

# pg_advisory_xact_lock key: "rpcbmigr" as a 64-bit integer, so unrelated applications' locks do not collide.
POSTGRES_LOCK_KEY: Final = int.from_bytes(b"rpcbmigr", "big") - (1 << 63)


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema, applied in one transaction with the steps around it."""

    version: int
    description: str
    statements: tuple[str, ...]


_CALL_LOG_CHECKS = (
    "CHECK (direction IN ('incoming', 'outgoing')), CHECK (outcome IN ('ok', 'fault', 'error'))"
)
_CALL_LOG_INDEXES = (
    "CREATE INDEX call_log_called_at ON call_log (called_at)",
    "CREATE INDEX call_log_procedure ON call_log (procedure, called_at)",
    "CREATE INDEX call_log_username ON call_log (username, called_at)",
    "CREATE INDEX call_log_request_id ON call_log (request_id)",
    "CREATE INDEX api_keys_active ON api_keys (username, id) WHERE revoked_at IS NULL",
)

_JOB_CHECKS = "CHECK (state IN ('queued', 'running', 'succeeded', 'failed'))"
_JOB_INDEXES = (
    # The runner's claim looks for due queued jobs and lapsed leases; retention for old finished jobs.
    "CREATE INDEX jobs_queued ON jobs (not_before) WHERE state = 'queued'",
    "CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running'",
    "CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL",
    "CREATE INDEX events_created_at ON events (created_at)",  # dropped with the table in migration 3
)

_DELIVERY_CHECKS = "CHECK (state IN ('pending', 'delivered', 'failed'))"
_EVENT_INDEXES = (
    "CREATE INDEX events_created_at ON events (created_at)",
    "CREATE INDEX events_type ON events (type, seq)",
    # The delivery loop's claim: due pending deliveries, and lapsed leases.
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'",
    "CREATE INDEX webhook_deliveries_listener ON webhook_deliveries (listener_id, created_at)",
    "CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)",
    "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id)",
)


def _events_and_webhooks(serial: str, time: str, boolean: str) -> tuple[str, ...]:
    """Migration 3 in one dialect: `events` reshaped (evt_ ids, type, data), listeners, deliveries, attempts.

    The old `events` rows (job.failed only, kept for `job_retention_days`) are not carried over.
    """
    return (
        "DROP TABLE events",
        f"CREATE TABLE events (seq {serial}, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
        f" created_at {time} NOT NULL, data TEXT NOT NULL, procedure TEXT NOT NULL,"
        f" request_id TEXT NOT NULL, username TEXT NOT NULL, auth {boolean} NOT NULL)",
        f"CREATE TABLE webhook_listeners (id TEXT PRIMARY KEY, url TEXT NOT NULL,"
        f" event_types TEXT NOT NULL, filter TEXT NOT NULL, owner TEXT NOT NULL, secrets TEXT NOT NULL,"
        f" enabled {boolean} NOT NULL, created_at {time} NOT NULL, failing_since {time},"
        f" disabled_reason TEXT)",
        f"CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY,"
        f" listener_id TEXT NOT NULL REFERENCES webhook_listeners (id) ON DELETE CASCADE,"
        f" event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE, state TEXT NOT NULL,"
        f" attempts INTEGER NOT NULL, created_at {time} NOT NULL, next_attempt_at {time},"
        f" runner TEXT, lease_until {time}, finished_at {time}, {_DELIVERY_CHECKS})",
        f"CREATE TABLE webhook_attempts (id {serial},"
        f" delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,"
        f" attempted_at {time} NOT NULL, status INTEGER, error TEXT, duration_ms DOUBLE PRECISION NOT NULL,"
        f" excerpt TEXT NOT NULL)",
        *_EVENT_INDEXES,
    )


# The W3C trace id of each incoming call (32 hex digits); '' for rows written before traces.
_TRACE_ID_STATEMENTS = (
    "ALTER TABLE call_log ADD COLUMN trace_id TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX call_log_trace_id ON call_log (trace_id)",
)

# Times are integer microseconds since the epoch in SQLite, TIMESTAMPTZ in PostgreSQL.
SQLITE_MIGRATIONS: Final = (
    Migration(
        1,
        "users, API keys, call log, admin settings",
        (
            "CREATE TABLE users (username TEXT PRIMARY KEY, enabled INTEGER NOT NULL,"
            " scopes TEXT NOT NULL, created_at INTEGER NOT NULL)",
            "CREATE TABLE api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,"
            " sealed_key TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER)",
            "CREATE TABLE call_log (id INTEGER PRIMARY KEY AUTOINCREMENT, called_at INTEGER NOT NULL,"
            " direction TEXT NOT NULL, protocol TEXT NOT NULL, procedure TEXT NOT NULL,"
            " username TEXT NOT NULL, peer TEXT NOT NULL, request_id TEXT NOT NULL,"
            " outcome TEXT NOT NULL, fault_code INTEGER, status TEXT NOT NULL,"
            " duration_ms REAL NOT NULL, request_bytes INTEGER NOT NULL,"
            f" response_bytes INTEGER NOT NULL, arguments TEXT, result TEXT, {_CALL_LOG_CHECKS})",
            "CREATE TABLE admin_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            *_CALL_LOG_INDEXES,
        ),
    ),
    Migration(
        2,
        "background jobs and events",
        (
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, procedure TEXT NOT NULL, request BLOB NOT NULL,"
            " username TEXT NOT NULL, state TEXT NOT NULL, api_version INTEGER NOT NULL,"
            " protocol TEXT NOT NULL, request_id TEXT NOT NULL, forward_metadata TEXT NOT NULL,"
            " created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,"
            " attempts INTEGER NOT NULL, not_before INTEGER NOT NULL, runner TEXT, lease_until INTEGER,"
            f" response BLOB, fault_code INTEGER, fault_message TEXT, {_JOB_CHECKS})",
            "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
            " job_id TEXT NOT NULL, procedure TEXT NOT NULL, username TEXT NOT NULL,"
            " created_at INTEGER NOT NULL, payload TEXT NOT NULL)",
            *_JOB_INDEXES,
        ),
    ),
    Migration(
        3,
        "events with evt_ ids and data, webhook listeners, deliveries and attempts",
        _events_and_webhooks("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "INTEGER"),
    ),
    Migration(
        4,
        "admin session revocations",
        (
            "CREATE TABLE admin_session_revocations (session_id TEXT PRIMARY KEY,"
            " expires_at INTEGER NOT NULL)",
        ),
    ),
    Migration(5, "call-log trace ids", _TRACE_ID_STATEMENTS),
)

POSTGRES_MIGRATIONS: Final = (
    Migration(
        1,
        "users, API keys, call log, admin settings",
        (
            "CREATE TABLE users (username TEXT PRIMARY KEY, enabled BOOLEAN NOT NULL,"
            " scopes TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
            "CREATE TABLE api_keys (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,"
            " sealed_key TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)",
            "CREATE TABLE call_log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " called_at TIMESTAMPTZ NOT NULL, direction TEXT NOT NULL, protocol TEXT NOT NULL,"
            " procedure TEXT NOT NULL, username TEXT NOT NULL, peer TEXT NOT NULL,"
            " request_id TEXT NOT NULL, outcome TEXT NOT NULL, fault_code BIGINT,"
            " status TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL,"
            " request_bytes BIGINT NOT NULL, response_bytes BIGINT NOT NULL,"
            f" arguments TEXT, result TEXT, {_CALL_LOG_CHECKS})",
            "CREATE TABLE admin_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            *_CALL_LOG_INDEXES,
        ),
    ),
    Migration(
        2,
        "background jobs and events",
        (
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, procedure TEXT NOT NULL, request BYTEA NOT NULL,"
            " username TEXT NOT NULL, state TEXT NOT NULL, api_version INTEGER NOT NULL,"
            " protocol TEXT NOT NULL, request_id TEXT NOT NULL, forward_metadata TEXT NOT NULL,"
            " created_at TIMESTAMPTZ NOT NULL, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,"
            " attempts INTEGER NOT NULL, not_before TIMESTAMPTZ NOT NULL, runner TEXT,"
            " lease_until TIMESTAMPTZ, response BYTEA, fault_code BIGINT, fault_message TEXT,"
            f" {_JOB_CHECKS})",
            "CREATE TABLE events (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind TEXT NOT NULL,"
            " job_id TEXT NOT NULL, procedure TEXT NOT NULL, username TEXT NOT NULL,"
            " created_at TIMESTAMPTZ NOT NULL, payload TEXT NOT NULL)",
            *_JOB_INDEXES,
        ),
    ),
    Migration(
        3,
        "events with evt_ ids and data, webhook listeners, deliveries and attempts",
        _events_and_webhooks("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "TIMESTAMPTZ", "BOOLEAN"),
    ),
    Migration(
        4,
        "admin session revocations",
        (
            "CREATE TABLE admin_session_revocations (session_id TEXT PRIMARY KEY,"
            " expires_at TIMESTAMPTZ NOT NULL)",
        ),
    ),
    Migration(5, "call-log trace ids", _TRACE_ID_STATEMENTS),
)

MIGRATIONS: Final[Mapping[str, tuple[Migration, ...]]] = {
    "sqlite": SQLITE_MIGRATIONS,
    "postgresql": POSTGRES_MIGRATIONS,
}

_VERSION_TABLE: Final[Mapping[str, str]] = {
    "sqlite": "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
}


def latest_version(dialect: str) -> int:
    """The schema version this rpcbridge writes for a dialect."""
    return MIGRATIONS[dialect][-1].version


async def schema_version(db: Database) -> int:
    """The version recorded in the database (0 before any migration)."""
    async with db.session() as session:
        row = await session.fetchrow("SELECT MAX(version) AS version FROM schema_version")
    return int(row["version"] or 0) if row else 0


_HAS_VERSION_TABLE: Final[Mapping[str, str]] = {
    "sqlite": "SELECT COUNT(*) > 0 AS present FROM sqlite_master"
    " WHERE type = 'table' AND name = 'schema_version'",
    # to_regclass follows search_path, as the unqualified names in the migrations do.
    "postgresql": "SELECT to_regclass('schema_version') IS NOT NULL AS present",
}


async def require_current_schema(db: Database) -> None:
    """Raise SchemaError unless the schema is exactly this rpcbridge's; changes nothing.

    For processes started with `auto_migrate = false`, which leave migrating to `rpcbridge db migrate`.
    """
    latest = latest_version(db.dialect)
    async with db.session() as session:
        row = await session.fetchrow(_HAS_VERSION_TABLE[db.dialect])
    current = await schema_version(db) if row and row["present"] else 0
    if current < latest:
        raise SchemaError(
            f"the database schema is at version {current}, this rpcbridge needs {latest}, and "
            "auto_migrate is false: run `rpcbridge db migrate` (with the same --config) first"
        )
    if current > latest:
        raise SchemaError(_newer_schema(current, latest))


def _newer_schema(current: int, latest: int) -> str:
    return (
        f"the database schema is at version {current}, newer than this rpcbridge "
        f"understands ({latest}); upgrade rpcbridge"
    )


async def apply_migrations(db: Database) -> list[int]:
    """Bring the schema up to date; return the versions applied now (empty when current).

    Raises SchemaError when the database was migrated by a newer rpcbridge.
    """
    migrations = MIGRATIONS[db.dialect]
    applied: list[int] = []
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            await session.execute("SELECT pg_advisory_xact_lock($1)", POSTGRES_LOCK_KEY)
        await session.execute(_VERSION_TABLE[db.dialect])
        row = await session.fetchrow("SELECT MAX(version) AS version FROM schema_version")
        current = int(row["version"] or 0) if row else 0
        if current > migrations[-1].version:
            raise SchemaError(_newer_schema(current, migrations[-1].version))
        for migration in migrations:
            if migration.version <= current:
                continue
            for statement in migration.statements:
                await session.execute(statement)
            await session.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
                migration.version,
                migration.description,
                db.encode_time(utc_now()),
            )
            applied.append(migration.version)
    return applied
