"""Webhook pages of the console: add (secret shown once), toggle, rotate, delete, deliveries, events."""

from __future__ import annotations

import pytest

from bridge.events.model import Event
from bridge.store.factory import Stores
from tests.app.admin.conftest import AdminClient, page_token

URL = "https://hooks.example.com/people"


async def add(admin: AdminClient, **fields: str) -> tuple[int, str]:
    token = await page_token(admin, "/webhooks")
    form = {"csrf_token": token, "url": URL, "events": "", "match": "", "owner": "admin", **fields}
    response = await admin.post("/webhooks", data=form)
    return response.status, await response.text()


async def test_add_listener_shows_the_secret_once(admin: AdminClient, stores: Stores) -> None:
    """Adding answers with the whsec_ secret; the list shows the listener and its filter, never the secret."""
    await stores.users.add_user("alice")
    status, text = await add(
        admin, events="person.saved, person.removed", match='{"name": {"startswith": "Jo"}}', owner="alice"
    )
    (listener,) = await stores.listeners.list_listeners()
    secret = listener.secrets[0].secret
    assert status == 200 and secret in text and "shown only once" in text
    assert listener.event_types == ("person.saved", "person.removed") and listener.owner == "alice"
    assert listener.filter == {"name": {"startswith": "Jo"}}
    listing = await (await admin.get("/webhooks")).text()
    assert listener.id in listing and URL in listing and "startswith" in listing
    assert secret not in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "https://127.0.0.1/"}, "loopback"),
        ({"url": "http://hooks.example.com/"}, "webhook_allow_http"),
        ({"match": "{not json"}, "not JSON"),
        ({"match": '{"name": {"startwith": "Jo"}}'}, "startwith"),
        ({"events": "bad type!"}, "not an event type"),
        ({"owner": "nobody"}, "no API user nobody"),
    ],
)
async def test_refused_listener_keeps_the_form(
    admin: AdminClient, stores: Stores, fields: dict[str, str], message: str
) -> None:
    """Refused input answers 400 naming the problem, with what was typed kept, and stores nothing."""
    status, text = await add(admin, **fields)
    assert status == 400 and message in text
    assert await stores.listeners.list_listeners() == []


async def test_mailto_listener_is_accepted_for_the_operator(admin: AdminClient, stores: Stores) -> None:
    """The admin may add a mailto: listener (delivered over SMTP)."""
    status, _ = await add(admin, url="mailto:ops@example.com", events="job.failed")
    assert status == 200
    (listener,) = await stores.listeners.list_listeners()
    assert listener.url == "mailto:ops@example.com"


async def test_disable_enable_rotate_delete(admin: AdminClient, stores: Stores) -> None:
    """Each action changes the store and comes back to the list with a notice; rotation shows a new secret."""
    await add(admin)
    (listener,) = await stores.listeners.list_listeners()
    path = f"/webhooks/{listener.id}"
    token = await page_token(admin, "/webhooks")
    disabled = await admin.post(path + "/disable", data={"csrf_token": token})
    assert "is disabled" in await disabled.text()
    stored = await stores.listeners.get(listener.id)
    assert stored is not None and not stored.enabled
    await admin.post(path + "/enable", data={"csrf_token": token})
    stored = await stores.listeners.get(listener.id)
    assert stored is not None and stored.enabled
    rotated = await (await admin.post(path + "/rotate-secret", data={"csrf_token": token})).text()
    stored = await stores.listeners.get(listener.id)
    assert stored is not None and stored.secrets[0].secret in rotated and "24 hours" in rotated
    assert stored.secrets[0].secret != listener.secrets[0].secret
    deleted = await admin.post(path + "/delete", data={"csrf_token": token})
    assert "delivery log are deleted" in await deleted.text()
    assert await stores.listeners.list_listeners() == []
    missing = await admin.post(path + "/disable", data={"csrf_token": token})
    assert missing.status == 404


async def test_actions_need_the_csrf_token(admin: AdminClient, stores: Stores) -> None:
    """A POST without the session's token is refused (403) and changes nothing."""
    response = await admin.post("/webhooks", data={"url": URL, "events": "", "match": "", "owner": "admin"})
    assert response.status == 403
    assert await stores.listeners.list_listeners() == []


async def test_deliveries_attempts_redeliver_and_events(admin: AdminClient, stores: Stores) -> None:
    """A committed event shows on /events and as a delivery; redeliver queues it and returns to the page."""
    await add(admin, events="person.saved")
    (listener,) = await stores.listeners.list_listeners()
    (event,) = await stores.events.commit(
        [Event("person.saved", {"name": "Jo <b>"}, procedure="people.save", caller="alice")]
    )
    events_page = await (await admin.get("/events")).text()
    assert event.id in events_page and "people.save" in events_page and "Jo &lt;b&gt;" in events_page
    page = f"/webhooks/{listener.id}/deliveries"
    deliveries_page = await (await admin.get(page)).text()
    (delivery,) = await stores.listeners.deliveries(listener.id)
    assert delivery.id in deliveries_page and "pending" in deliveries_page and "none yet" in deliveries_page
    assert delivery.id in await (await admin.get("/deliveries")).text()
    token = await page_token(admin, page)
    redelivered = await admin.post(
        f"/deliveries/{delivery.id}/redeliver", data={"csrf_token": token, "back": page}
    )
    assert redelivered.url.path == page
    assert "queued again" in await redelivered.text()
    elsewhere = await admin.post(
        f"/deliveries/{delivery.id}/redeliver", data={"csrf_token": token, "back": "//evil.example/"}
    )
    assert elsewhere.url.host == "127.0.0.1"
    assert (await admin.post("/deliveries/dlv_missing/redeliver", data={"csrf_token": token})).status == 404
    assert (await admin.get("/webhooks/lst_missing/deliveries")).status == 404
