"""The webhook outbox on SQLite and PostgreSQL: leased claims, per-listener room, what attempts change."""

from __future__ import annotations

import datetime

import pytest

from bridge.events.model import WEBHOOK_DISABLED, Event
from bridge.sidecar.listener_input import check_listener
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.database import Database
from bridge.store.key_cipher import KeyCipher
from bridge.store.sql_event_store import SqlEventStore
from bridge.store.sql_listener_store import SqlListenerStore
from bridge.store.sql_outbox import AttemptOutcome, SqlOutbox
from bridge.store.webhook_records import Attempt

T0 = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
DAY = 86400.0


def later(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def attempt(delivery_id: str, at: float, status: int | None = 500) -> Attempt:
    return Attempt(
        delivery_id=delivery_id, attempted_at=later(at), status=status, error=None, duration_ms=1.0
    )


@pytest.fixture
async def parts(db: Database) -> tuple[SqlOutbox, SqlListenerStore, SqlEventStore]:
    events = SqlEventStore(db, clock=lambda: T0)
    listeners = SqlListenerStore(db, KeyCipher())
    return SqlOutbox(db, events, listeners, clock=lambda: T0), listeners, events


async def test_claims_respect_leases_and_per_listener_room(
    parts: tuple[SqlOutbox, SqlListenerStore, SqlEventStore],
) -> None:
    """A claimed delivery is not claimed again until its lease lapses; a listener without room is skipped."""
    outbox, listeners, events = parts
    listener = check_listener("https://example.com/", (), None, "admin", WebhookPolicy(), T0)
    await listeners.add(listener)
    await events.commit([Event("a.b", {"n": n}) for n in range(3)])
    first = await outbox.claim("runner-1", 10, 60, lambda _: 2, now=later(1))
    assert len(first) == 2 and {d.listener.id for d in first} == {listener.id}
    assert await outbox.claim("runner-2", 10, 60, lambda _: 0, now=later(2)) == []
    [third] = await outbox.claim("runner-2", 10, 60, lambda _: 2, now=later(2))
    assert third.id not in {d.id for d in first}
    assert await outbox.claim("runner-3", 10, 60, lambda _: 5, now=later(30)) == []
    lapsed = await outbox.claim("runner-3", 10, 60, lambda _: 5, now=later(62))
    assert {d.id for d in lapsed} == {d.id for d in first}  # the third's lease runs to 62 s
    assert not await outbox.record(
        first[0], "runner-1", attempt(first[0].id, 63), AttemptOutcome(False, 1.0), DAY
    )
    assert await outbox.depth(now=later(64)) == (3, pytest.approx(64.0))
    assert await outbox.release("runner-3") == 2


async def test_a_listener_failing_too_long_is_disabled_with_an_event(
    parts: tuple[SqlOutbox, SqlListenerStore, SqlEventStore],
) -> None:
    """Failures start a streak; past disable_after the listener is disabled, with a webhook.disabled event."""
    outbox, listeners, events = parts
    listener = check_listener("https://example.com/", ("a.b",), None, "admin", WebhookPolicy(), T0)
    await listeners.add(listener)
    await events.commit([Event("a.b", {"n": 1})])
    [due] = await outbox.claim("r", 1, 60, lambda _: 1, now=later(1))
    assert await outbox.record(due, "r", attempt(due.id, 1), AttemptOutcome(False, 10.0), DAY)
    streaking = await listeners.get(listener.id)
    assert streaking is not None and streaking.failing_since == later(1) and streaking.enabled
    [due] = await outbox.claim("r", 1, 60, lambda _: 1, now=later(DAY + 2))
    assert await outbox.record(due, "r", attempt(due.id, DAY + 2), AttemptOutcome(False, 10.0), DAY)
    disabled = await listeners.get(listener.id)
    assert disabled is not None and not disabled.enabled
    assert disabled.disabled_reason is not None and "failing since" in disabled.disabled_reason
    [event] = [e for e in await events.list_since(0) if e.type == WEBHOOK_DISABLED]
    assert event.data["listener"] == listener.id and event.auth
    assert await outbox.claim("r", 1, 60, lambda _: 1, now=later(DAY + 100)) == []
    assert [a.status for a in await listeners.attempts(due.id)] == [500, 500]


async def test_success_ends_the_streak_and_the_delivery(
    parts: tuple[SqlOutbox, SqlListenerStore, SqlEventStore],
) -> None:
    """A 2xx marks the delivery delivered and clears the listener's failure streak."""
    outbox, listeners, events = parts
    listener = check_listener("https://example.com/", (), None, "admin", WebhookPolicy(), T0)
    await listeners.add(listener)
    await events.commit([Event("a.b", {})])
    [due] = await outbox.claim("r", 1, 60, lambda _: 1, now=later(1))
    await outbox.record(due, "r", attempt(due.id, 1), AttemptOutcome(False, 0.0), DAY)
    [due] = await outbox.claim("r", 1, 60, lambda _: 1, now=later(2))
    await outbox.record(due, "r", attempt(due.id, 2, status=204), AttemptOutcome(True), DAY)
    [delivery] = await listeners.deliveries(listener.id)
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    fine = await listeners.get(listener.id)
    assert fine is not None and fine.failing_since is None
