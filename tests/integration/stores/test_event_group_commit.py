"""Event commits on SQLite and PostgreSQL: concurrent calls share one transaction, fail together, and
see a listener another connection (the CLI, another sidecar) committed before their transaction."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from bridge.events.model import Event
from bridge.sidecar.listener_input import check_listener
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.database import Database, Session
from bridge.store.factory import open_database
from bridge.store.interfaces import StoreUnavailable
from bridge.store.key_cipher import KeyCipher
from bridge.store.sql_event_store import SqlEventStore
from bridge.store.sql_listener_store import SqlListenerStore

T0 = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)


class CountedTransactions:
    """A `Database` that counts its transactions and can be told to fail the next ones."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.transactions = 0
        self.failing = False
        self.started = asyncio.Event()
        self.dialect = db.dialect
        self.encode_time = db.encode_time
        self.decode_time = db.decode_time
        self.session = db.session
        self.close = db.close

    def transaction(self) -> AbstractAsyncContextManager[Session]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Session]:
        self.transactions += 1
        self.started.set()
        async with self.db.transaction() as session:
            yield session
            if self.failing:
                raise StoreUnavailable("disk full")


@pytest.fixture
def counted(db: Database) -> CountedTransactions:
    return CountedTransactions(db)


@pytest.fixture
def events(counted: CountedTransactions) -> SqlEventStore:
    store_db: Any = counted
    return SqlEventStore(store_db, clock=lambda: T0)


async def delivered_to(db: Database, event_id: str) -> list[str]:
    """The listener ids with a delivery of this event."""
    async with db.session() as session:
        rows = await session.fetch("SELECT listener_id FROM webhook_deliveries WHERE event_id = $1", event_id)
    return sorted(row["listener_id"] for row in rows)


async def test_concurrent_commits_share_one_transaction(
    counted: CountedTransactions, events: SqlEventStore, db: Database
) -> None:
    """Five calls committing at once: one transaction, each gets its own events, offsets in call order."""
    watcher = check_listener("https://example.com/hook", (), None, "admin", WebhookPolicy(), T0)
    await SqlListenerStore(db, KeyCipher()).add(watcher)
    batches = [[Event("a.b", {"call": n, "i": i}) for i in range(n + 1)] for n in range(5)]
    results = await asyncio.gather(*(events.commit(batch) for batch in batches))
    assert counted.transactions == 1
    assert [[e.id for e in result] for result in results] == [[e.id for e in batch] for batch in batches]
    offsets = [e.offset or 0 for result in results for e in result]
    assert 0 not in offsets and offsets == sorted(set(offsets))
    for result in results:
        for event in result:
            assert await delivered_to(db, event.id) == [watcher.id]
    assert [e.id for e in await events.list_since(0, 100)] == [e.id for r in results for e in r]


async def test_a_failed_transaction_fails_every_call_in_it(
    counted: CountedTransactions, events: SqlEventStore
) -> None:
    """The store error reaches every call of the batch and nothing is kept; the next call commits."""
    counted.failing = True
    outcomes = await asyncio.gather(
        events.commit([Event("a.b", {})]), events.commit([Event("c.d", {})]), return_exceptions=True
    )
    assert counted.transactions == 1
    assert all(isinstance(o, StoreUnavailable) for o in outcomes)
    assert await events.list_since(0, 10) == []
    counted.failing = False
    [kept] = await events.commit([Event("e.f", {})])
    assert [e.id for e in await events.list_since(0, 10)] == [kept.id]


async def test_calls_arriving_during_a_commit_share_the_next_one(
    counted: CountedTransactions, events: SqlEventStore
) -> None:
    """While one transaction is in flight, later calls wait and then commit together in one more."""
    first = asyncio.ensure_future(events.commit([Event("a.b", {})]))
    await counted.started.wait()
    later = [asyncio.ensure_future(events.commit([Event("c.d", {"n": n})])) for n in range(3)]
    await asyncio.gather(first, *later)
    assert counted.transactions == 2


async def test_listener_changes_by_another_connection_apply_to_the_next_commit(
    database_url: str, db: Database, events: SqlEventStore
) -> None:
    """Added, disabled, enabled and removed through another connection, as the CLI does: no delay."""
    [before] = await events.commit([Event("a.b", {})])
    assert await delivered_to(db, before.id) == []
    other = await open_database(database_url)
    try:
        cli = SqlListenerStore(other, KeyCipher())
        added = check_listener("https://example.com/hook", ("a.b",), None, "admin", WebhookPolicy(), T0)
        await cli.add(added)
        [after] = await events.commit([Event("a.b", {})])
        assert await delivered_to(db, after.id) == [added.id]
        await cli.set_enabled(added.id, False)
        [disabled] = await events.commit([Event("a.b", {})])
        assert await delivered_to(db, disabled.id) == []
        await cli.set_enabled(added.id, True)
        [enabled] = await events.commit([Event("a.b", {})])
        assert await delivered_to(db, enabled.id) == [added.id]
        await cli.remove(added.id)
        [removed] = await events.commit([Event("a.b", {})])
        assert await delivered_to(db, removed.id) == []
    finally:
        await other.close()
