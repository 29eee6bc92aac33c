"""Schema migrations: a numbered list per dialect, recorded in `schema_version`, applied on open.

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
    "CREATE INDEX events_created_at ON events (created_at)",
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
    # Traces (issue 11): kept apart from other branches' migrations; renumber on merge if needed.
    Migration(3, "call-log trace ids", _TRACE_ID_STATEMENTS),
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
    Migration(3, "call-log trace ids", _TRACE_ID_STATEMENTS),
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
            raise SchemaError(
                f"the database schema is at version {current}, newer than this rpcbridge "
                f"understands ({migrations[-1].version}); upgrade rpcbridge"
            )
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
