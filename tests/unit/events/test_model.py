"""The Event record: sortable unique ids, aware UTC timestamps, and the provides whitelist."""

from __future__ import annotations

import datetime

import pytest

from bridge.events.model import Event, new_event_id, whitelist

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_event_ids_are_prefixed_base32_and_sort_in_creation_order() -> None:
    """Ids made one after another are distinct, evt_ + 26 Crockford characters, and sort as made."""
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(event_id.startswith("evt_") and len(event_id) == 30 for event_id in ids)
    assert all(set(event_id[4:]) <= CROCKFORD for event_id in ids)


def test_event_gets_an_id_and_an_aware_utc_timestamp() -> None:
    """An Event built with type and data only gets a fresh id and the current time in UTC."""
    before = datetime.datetime.now(datetime.UTC)
    event = Event("person.saved", {"name": "Jo"})
    assert event.id.startswith("evt_")
    assert event.timestamp.tzinfo is datetime.UTC
    assert before <= event.timestamp <= datetime.datetime.now(datetime.UTC)
    assert (event.procedure, event.request_id, event.caller, event.auth) == (None, None, None, False)


def test_event_timestamp_is_normalised_to_utc() -> None:
    """An aware timestamp with another offset is kept as the same instant, in UTC."""
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    event = Event("t", {}, timestamp=datetime.datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert event.timestamp == datetime.datetime(2026, 1, 1, 10, tzinfo=datetime.UTC)
    assert event.timestamp.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"timestamp": datetime.datetime(2026, 1, 1)}, "timezone-aware"),
        ({"id": "msg_1"}, "starts with 'evt_'"),
        ({"type": ""}, "needs a type"),
    ],
)
def test_event_refuses_what_it_cannot_be(fields: dict[str, object], problem: str) -> None:
    """A naive timestamp, a foreign id or an empty type are refused when the Event is built."""
    arguments: dict[str, object] = {"type": "t", "data": {}, **fields}
    with pytest.raises(ValueError, match=problem):
        Event(**arguments)  # type: ignore[arg-type]


def test_whitelist_keeps_only_provided_top_level_fields_in_order() -> None:
    """Fields outside provides are dropped, nested values stay whole, and order is the data's."""
    data = {"secret": "s3", "name": "Jo", "address": {"city": "Berlin", "secret": 1}}
    assert whitelist(data, ["address", "name", "missing"]) == {
        "name": "Jo",
        "address": {"city": "Berlin", "secret": 1},
    }
    assert list(whitelist(data, {"address", "name"})) == ["name", "address"]
    assert whitelist(data, []) == {}
