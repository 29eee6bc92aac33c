"""Webhook listeners and deliveries on SQLite and PostgreSQL: owners, secrets, matching, redelivery."""

from __future__ import annotations

import datetime

import pytest

from bridge.errors import ConfigError
from bridge.events.model import Event
from bridge.events.webhook_signing import new_secret
from bridge.sidecar.listener_input import check_listener
from bridge.sidecar.mail_sender import ADMIN_MAIL_LISTENER_ID, sync_admin_mail_listener
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.database import Database
from bridge.store.key_cipher import KeyCipher
from bridge.store.sql_event_store import SqlEventStore
from bridge.store.sql_listener_store import SqlListenerStore
from bridge.store.webhook_records import Listener

T0 = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
POLICY = WebhookPolicy()


def later(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def listener(
    owner: str = "admin", events: tuple[str, ...] = (), match: object = None, at: float = 0
) -> Listener:
    return check_listener("https://example.com/hook", events, match, owner, POLICY, later(at))


@pytest.fixture
def listeners(db: Database) -> SqlListenerStore:
    return SqlListenerStore(db, KeyCipher())


@pytest.fixture
def events(db: Database) -> SqlEventStore:
    return SqlEventStore(db, clock=lambda: T0)


async def test_listener_round_trips_and_owners_see_only_their_own(listeners: SqlListenerStore) -> None:
    """Every field reads back; an owner lists, gets, disables and removes only their own listeners."""
    mine = listener("alice", ("person.saved",), {"name": {"startswith": "Jo"}})
    theirs = listener("bob", at=1)
    await listeners.add(mine)
    await listeners.add(theirs)
    assert await listeners.get(mine.id) == mine
    assert await listeners.list_listeners() == [mine, theirs]
    assert await listeners.list_listeners("alice") == [mine]
    assert await listeners.get(theirs.id, owner="alice") is None
    assert not await listeners.set_enabled(theirs.id, False, owner="alice")
    assert not await listeners.remove(theirs.id, owner="alice")
    assert await listeners.set_enabled(mine.id, False, owner="alice")
    disabled = await listeners.get(mine.id)
    assert disabled is not None and (disabled.enabled, disabled.disabled_reason) == (
        False,
        "disabled by hand",
    )
    assert await listeners.remove(theirs.id)
    assert await listeners.list_listeners() == [disabled]


async def test_rotation_keeps_the_old_secret_signing_for_the_overlap(listeners: SqlListenerStore) -> None:
    """After a rotation both secrets sign until the overlap ends; then only the new one does."""
    added = listener()
    await listeners.add(added)
    old = added.secrets[0].secret
    assert await listeners.rotate_secret(added.id, "whsec_new", 3600, now=later(10))
    rotated = await listeners.get(added.id)
    assert rotated is not None
    assert rotated.signing_secrets(later(20)) == ["whsec_new", old]
    assert rotated.signing_secrets(later(3611)) == ["whsec_new"]
    assert not await listeners.rotate_secret("lst_nope", "whsec_x", 3600)


async def test_secrets_are_sealed_at_rest(db: Database) -> None:
    """With key_encryption_key set, the stored secrets are not the secret text."""
    from cryptography.fernet import Fernet

    store = SqlListenerStore(db, KeyCipher(Fernet.generate_key().decode()))
    added = listener()
    await store.add(added)
    async with db.session() as session:
        row = await session.fetchrow("SELECT secrets FROM webhook_listeners")
    assert row is not None and added.secrets[0].secret not in row["secrets"]
    assert await store.get(added.id) == added


async def test_commit_writes_a_delivery_per_matching_enabled_listener(
    listeners: SqlListenerStore, events: SqlEventStore
) -> None:
    """Type, filter and enabled decide which listeners get a delivery; redelivery requeues the same event."""
    every = listener()
    jo = listener(events=("person.saved",), match={"name": {"startswith": "Jo"}}, at=1)
    off = listener(at=2)
    for item in (every, jo, off):
        await listeners.add(item)
    await listeners.set_enabled(off.id, False)
    [jon] = await events.commit([Event("person.saved", {"name": "Jon"}, procedure="p", request_id="r")])
    [ann] = await events.commit([Event("person.saved", {"name": "Ann"})])
    by_event = {
        e.id: sorted(d.listener_id for d in await listeners.deliveries() if d.event_id == e.id)
        for e in (jon, ann)
    }
    assert by_event == {jon.id: sorted([every.id, jo.id]), ann.id: [every.id]}
    [delivery] = await listeners.deliveries(jo.id)
    assert (delivery.state, delivery.event_type, delivery.attempts) == ("pending", "person.saved", 0)
    assert await listeners.get_delivery(delivery.id, owner="someone-else") is None
    assert await listeners.attempts(delivery.id) == []
    assert await listeners.redeliver(delivery.id)
    assert not await listeners.redeliver("dlv_nope")
    assert await listeners.redeliver_failed_since(jo.id, T0) == 0
    assert await listeners.deliveries(failed_only=True) == []


async def test_admin_emails_listener_follows_the_setting(listeners: SqlListenerStore) -> None:
    """admin_emails keeps one job.failed mail listener owned by admin: kept, replaced, or removed."""
    made = await sync_admin_mail_listener(listeners, ["ops@example.com"], new_secret(), T0)
    assert made is not None and made.id == ADMIN_MAIL_LISTENER_ID
    assert (made.url, made.event_types, made.owner) == ("mailto:ops@example.com", ("job.failed",), "admin")
    await listeners.set_enabled(ADMIN_MAIL_LISTENER_ID, False)
    kept = await sync_admin_mail_listener(listeners, ["ops@example.com"], new_secret(), later(60))
    assert kept is not None and not kept.enabled and kept.created_at == T0  # an operator's disable holds
    changed = await sync_admin_mail_listener(listeners, ["a@example.com", "b@example.com"], new_secret(), T0)
    assert changed is not None and changed.url == "mailto:a@example.com,b@example.com" and changed.enabled
    assert [item.id for item in await listeners.list_listeners()] == [ADMIN_MAIL_LISTENER_ID]
    assert await sync_admin_mail_listener(listeners, [], new_secret(), T0) is None
    assert await listeners.list_listeners() == []
    with pytest.raises(ConfigError, match="admin_emails"):
        await sync_admin_mail_listener(listeners, ["not an address"], new_secret(), T0)
