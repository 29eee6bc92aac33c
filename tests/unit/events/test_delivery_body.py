"""The delivery body: exactly four keys, and every neutral value mapped to JSON as documented."""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

import pytest
from hypothesis import given, settings

from bridge.events.delivery_body import encode_delivery_body
from bridge.events.model import Event
from tests.unit.events.neutral import event_data

WHEN = datetime.datetime(2026, 12, 1, 15, 12, 8, 123456, tzinfo=datetime.UTC)
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))


def body_of(data: dict[str, Any]) -> dict[str, Any]:
    """The parsed body of an event with `data`."""
    event = Event("person.saved", data, id="evt_01TEST", timestamp=WHEN, procedure="p", caller="u")
    parsed: dict[str, Any] = json.loads(encode_delivery_body(event))
    return parsed


def test_body_has_exactly_id_type_timestamp_data() -> None:
    """Only the four keys leave: procedure, request id and caller stay in the bridge."""
    assert body_of({"name": "Jo"}) == {
        "id": "evt_01TEST",
        "type": "person.saved",
        "timestamp": "2026-12-01T15:12:08.123456Z",
        "data": {"name": "Jo"},
    }


@pytest.mark.parametrize(
    ("value", "json_value"),
    [
        (None, None),
        (True, True),
        ("Jo ✓", "Jo ✓"),
        (7, 7),
        ((1 << 63) - 1, (1 << 63) - 1),
        (-(1 << 63), -(1 << 63)),
        (1 << 63, "9223372036854775808"),
        (-(1 << 63) - 1, "-9223372036854775809"),
        (10**30, "1000000000000000000000000000000"),
        (0.1, 0.1),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (decimal.Decimal("1.10"), "1.10"),
        (decimal.Decimal("-Infinity"), "-Infinity"),
        (b"\x00\xffJo", "AP9Kbw=="),
        (datetime.datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05"),
        (datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=PLUS_TWO), "2026-01-02T03:04:05.000006+02:00"),
        (datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC), "2026-01-02T00:00:00Z"),
        ((1, [2, {"a": b"x"}]), [1, [2, {"a": "eA=="}]]),
        ({"b": 1, "a": {"c": 1 << 64}}, {"b": 1, "a": {"c": "18446744073709551616"}}),
    ],
)
def test_value_mapping(value: Any, json_value: Any) -> None:
    """Each neutral value becomes the JSON that docs/events.md "Delivery body" says."""
    assert body_of({"v": value})["data"]["v"] == json_value


def test_struct_keys_keep_the_workers_order() -> None:
    """Object members are written in the order the worker gave them."""
    assert list(body_of({"z": 1, "a": 2, "m": 3})["data"]) == ["z", "a", "m"]


@pytest.mark.parametrize("value", [object(), {1: "int key"}, "lone \ud800 surrogate", {1, 2}])
def test_values_json_cannot_hold_raise_type_error(value: Any) -> None:
    """A value outside the neutral types, or a string with no UTF-8 form, raises TypeError."""
    with pytest.raises(TypeError):
        body_of({"v": value})


@settings(database=None, deadline=None)
@given(data=event_data)
def test_every_neutral_value_encodes_to_json(data: dict[str, Any]) -> None:
    """Any neutral data gives a body that a strict JSON parser reads, with the four keys in order."""
    body = encode_delivery_body(Event("t", data))
    parsed = json.loads(body, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert list(parsed) == ["id", "type", "timestamp", "data"]
    assert list(parsed["data"]) == list(data)
