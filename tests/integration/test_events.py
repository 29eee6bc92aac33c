"""Events end to end: a worker's emit is committed by the sidecar, with its deliveries, before the answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.events.model import Event
from bridge.settings import Settings
from bridge.store.factory import open_database, open_stores
from bridge.testing import Deployment, deployment, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc

LISTENERS = {
    "lst_berlin": (["person.saved"], {"address.city": {"startswith": "Ber"}}),
    "lst_all": (["*"], {}),
    "lst_secret": (["person.saved"], {"secret": {"any": True}}),
    "lst_removed": (["person.removed"], {}),
}


@pytest.fixture(scope="module")
def events_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The example worker, with call-log arguments on and four listeners written straight to the store."""
    scratch = tmp_path_factory.mktemp("events")
    with deployment([EXAMPLE_WORKER], scratch=scratch, env={"RPCBRIDGE_LOG_ARGUMENTS": "1"}) as running:
        asyncio.run(add_listeners(settings_of(running)))
        yield running


def settings_of(bridge: Deployment) -> Settings:
    return Settings(data_dir=bridge.scratch / "data")


async def add_listeners(settings: Settings) -> None:
    db = await open_database(settings.database)
    try:
        async with db.session() as session:
            for listener_id, (types, match) in LISTENERS.items():
                await session.execute(
                    "INSERT INTO webhook_listeners (id, url, event_types, filter, owner, secrets, enabled,"
                    " created_at) VALUES ($1, 'https://example.com/hook', $2, $3, 'admin', '[]', $4, $5)",
                    listener_id,
                    json.dumps(types),
                    json.dumps(match),
                    True,
                    db.encode_time(Event("x", {}).timestamp),
                )
    finally:
        await db.close()


def call(bridge: Deployment, method: str, *params: Any) -> dict[str, Any]:
    _, answer = json_rpc(
        bridge.url + "/rpc", {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
    )
    assert isinstance(answer, dict)
    return answer


def stored(settings: Settings) -> tuple[list[Event], list[dict[str, Any]], list[dict[str, Any]]]:
    """Every event, every delivery row and every call-log row of the deployment's store."""

    async def read() -> tuple[list[Event], list[dict[str, Any]], list[dict[str, Any]]]:
        stores = await open_stores(settings)
        try:
            events = await stores.events.list_since(0, limit=1000)
            async with stores.database.session() as session:
                deliveries = await session.fetch(
                    "SELECT listener_id, event_id, state, attempts FROM webhook_deliveries"
                )
                calls = await session.fetch("SELECT procedure, request_id, arguments, result FROM call_log")
            return events, deliveries, calls
        finally:
            await stores.close()

    return asyncio.run(read())


def test_emitted_event_is_committed_with_its_deliveries_before_the_answer(events_bridge: Deployment) -> None:
    """Once people.save answers, its event (whitelisted) and one delivery per matching listener are stored."""
    address = {"city": "Berlin", "street": "Unter den Linden"}
    assert call(events_bridge, "people.save", "Jo", address, "hunter2")["result"] == "Jo"
    events, deliveries, _ = stored(settings_of(events_bridge))
    [event] = [e for e in events if e.type == "person.saved"]
    assert event.id.startswith("evt_") and event.offset is not None
    assert event.data == {"name": "Jo", "address": address}
    assert (event.procedure, event.caller, event.auth) == ("people.save", None, False)
    # The call log is written in the background, after the answer.
    wait_until(lambda: any(c["procedure"] == "people.save" for c in stored(settings_of(events_bridge))[2]))
    [logged] = [c for c in stored(settings_of(events_bridge))[2] if c["procedure"] == "people.save"]
    assert event.request_id == logged["request_id"]
    # The call log shows the call's result only, never what was emitted with it.
    assert "Berlin" not in (logged["result"] or "") and "person.saved" not in (logged["result"] or "")
    matched = sorted(d["listener_id"] for d in deliveries if d["event_id"] == event.id)
    # lst_secret filters on a field the hook does not provide: it never matches, even though emitted.
    assert matched == ["lst_all", "lst_berlin"]
    assert all(d["state"] == "pending" and d["attempts"] == 0 for d in deliveries)


def test_filter_and_type_decide_the_deliveries(events_bridge: Deployment) -> None:
    """A Hamburg address skips the Berlin listener; an async procedure's event reaches its type's listener."""
    call(events_bridge, "people.save", "Ann", {"city": "Hamburg"})
    assert call(events_bridge, "people.remove", "Ann")["result"] is True
    events, deliveries, _ = stored(settings_of(events_bridge))
    by_event = {e.id: e for e in events}
    hamburg = [e for e in events if e.data.get("address") == {"city": "Hamburg"}]
    [removed] = [e for e in events if e.type == "person.removed"]
    assert removed.auth and removed.data == {"name": "Ann"}
    assert sorted(d["listener_id"] for d in deliveries if d["event_id"] == hamburg[0].id) == ["lst_all"]
    assert sorted(d["listener_id"] for d in deliveries if d["event_id"] == removed.id) == [
        "lst_all",
        "lst_removed",
    ]
    assert all(d["event_id"] in by_event for d in deliveries)


def test_list_events_describes_the_hooks(events_bridge: Deployment) -> None:
    """system.listEvents gives each hook's name, fields, help and auth, and is listed and described."""
    hooks = call(events_bridge, "system.listEvents")["result"]
    assert hooks == [
        {"name": "person.removed", "fields": ["name"], "help": "A person was removed.", "auth": True},
        {
            "name": "person.saved",
            "fields": ["name", "address"],
            "help": "A person was saved: their name and address.",
            "auth": False,
        },
    ]
    assert "system.listEvents" in call(events_bridge, "system.listMethods")["result"]
    assert "event types" in call(events_bridge, "system.methodHelp", "system.listEvents")["result"]
    assert call(events_bridge, "system.listEvents", 1)["error"]["code"] == -32602
