"""The one place that chooses store implementations, by URL, and opens and closes them.

Imports every store implementation and `bridge.settings`. `settings.database` selects SQLite
("sqlite:///path", the default in the data directory) or PostgreSQL ("postgresql://..." or
"postgres://..."); `settings.redis_url` selects Redis for nonces, else memory. Opening applies
schema migrations, so every process (sidecar, `rpcbridge users`) meets the current schema; with
`auto_migrate = false` it only checks that the schema is current (`rpcbridge db migrate` applies).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from bridge.errors import ConfigError
from bridge.events.model import Event
from bridge.settings import Settings
from bridge.store.database import Database
from bridge.store.interfaces import (
    AdminStore,
    CallLogStore,
    EventStore,
    JobStore,
    ListenerStore,
    NonceStore,
    UserStore,
)
from bridge.store.key_cipher import KeyCipher
from bridge.store.migrations import apply_migrations, require_current_schema
from bridge.store.nonce_stores import CLIENT_NAME, DEFAULT_PREFIX, MemoryNonceStore, RedisNonceStore
from bridge.store.postgres_database import PostgresDatabase
from bridge.store.sql_event_store import Publish, SqlEventStore
from bridge.store.sql_job_stores import SqlJobStore
from bridge.store.sql_listener_store import SqlListenerStore
from bridge.store.sql_stores import SqlAdminStore, SqlCallLogStore, SqlUserStore
from bridge.store.sqlite_database import SqliteDatabase

SQLITE_SCHEME: Final = "sqlite:///"
POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")
REDIS_SCHEMES: Final = ("redis://", "rediss://", "unix://")


@dataclass
class Stores:
    """The open stores of one process; `close()` releases them all."""

    users: UserStore
    nonces: NonceStore
    call_log: CallLogStore
    admin: AdminStore
    jobs: JobStore
    events: EventStore
    listeners: ListenerStore
    database: Database
    _nonce_backend: MemoryNonceStore | RedisNonceStore = field(repr=False)

    async def close(self) -> None:
        """Close the nonce cache and the database."""
        try:
            await self._nonce_backend.aclose()
        finally:
            await self.database.close()


async def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the database named by a store URL and bring its schema up to date.

    Args:
        migrate: False only checks the schema, raising SchemaError unless it is current.
    """
    db = await connect_database(url)
    try:
        await (apply_migrations(db) if migrate else require_current_schema(db))
    except BaseException:
        await db.close()
        raise
    return db


async def connect_database(url: str) -> Database:
    """Open the database named by a store URL as it is, touching no schema."""
    db: Database
    if url.startswith(SQLITE_SCHEME):
        path = url[len(SQLITE_SCHEME) :]
        if not path:
            raise ConfigError("a SQLite database URL needs a path: sqlite:///relative or sqlite:////absolute")
        db = await SqliteDatabase.open(path)
    elif url.startswith(POSTGRES_SCHEMES):
        db = await PostgresDatabase.open(url)
    else:
        scheme = url.split(":", 1)[0] if ":" in url else url
        raise ConfigError(f"database_url must start with sqlite:/// or postgresql://, not {scheme!r}")
    return db


def open_nonce_store(redis_url: str, prefix: str = DEFAULT_PREFIX) -> MemoryNonceStore | RedisNonceStore:
    """Redis when `redis_url` is set, else memory (one sidecar only). Connects lazily."""
    if not redis_url:
        return MemoryNonceStore()
    if not redis_url.startswith(REDIS_SCHEMES):
        raise ConfigError("redis_url must start with redis://, rediss:// or unix://")
    # Named per process, so an operator (or a test) can tell one sidecar's connections in CLIENT LIST.
    return RedisNonceStore(redis_url, prefix=prefix, client_name=f"{CLIENT_NAME}-{os.getpid()}")


async def open_stores(
    settings: Settings,
    publish: Publish | None = None,
    on_events: Callable[[Sequence[Event], int], None] | None = None,
) -> Stores:
    """Open every store the settings name; ConfigError for a bad URL or encryption key.

    Args:
        publish: live fan-out of committed events (see `SqlEventStore`); None outside the sidecar.
        on_events: told the events and delivery count of each commit (wakes the delivery loop).
    """
    cipher = KeyCipher(settings.key_encryption_key)
    nonces = open_nonce_store(settings.redis_url)
    try:
        db = await open_database(settings.database, migrate=settings.auto_migrate)
    except BaseException:
        await nonces.aclose()
        raise
    events = SqlEventStore(db, publish, on_events)
    return Stores(
        users=SqlUserStore(db, cipher),
        nonces=nonces,
        call_log=SqlCallLogStore(db),
        admin=SqlAdminStore(db),
        jobs=SqlJobStore(db, events),
        events=events,
        listeners=SqlListenerStore(db, cipher),
        database=db,
        _nonce_backend=nonces,
    )
