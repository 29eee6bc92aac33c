"""Python's own types through `rpcbridge.v1.Value`: tagged on the wire, rebuilt on the far side."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, NamedTuple

import pytest

from bridge.procedures import type_name_for_hint
from bridge.rpc.values import from_value, to_value
from rpcbridge.v1 import value_pb2
from tests.neutral_values import same

PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")

# Each kind: a value, its tag, and the plain value other languages read inside the tag.
KINDS: dict[str, tuple[Any, str, Any]] = {
    "tuple": ((1, "two"), "py:tuple", [1, "two"]),
    "empty tuple": ((), "py:tuple", []),
    "set": ({3}, "py:set", [3]),
    "frozenset": (frozenset({"a"}), "py:frozenset", ["a"]),
    "date": (datetime.date(2026, 1, 2), "py:date", "2026-01-02"),
    "naive time": (datetime.time(23, 59, 59, 1), "py:time", "23:59:59.000001"),
    "aware time": (datetime.time(8, 30, tzinfo=PLUS_2), "py:time", "08:30:00+02:00"),
    "timedelta": (datetime.timedelta(days=-1, seconds=5, microseconds=7), "py:timedelta", -86_394_999_993),
    "huge timedelta": (datetime.timedelta.max, "py:timedelta", 86_399_999_999_999_999_999),
    "UUID": (ID, "py:uuid", "12345678-1234-5678-1234-567812345678"),
    "complex": (1.5 - 2j, "py:complex", [1.5, -2.0]),
}


@pytest.mark.parametrize("name", KINDS)
def test_each_kind_round_trips_with_its_type(name: str) -> None:
    """to_value then from_value gives back an equal value of the very same type."""
    value, _, _ = KINDS[name]
    back = from_value(value_pb2.Value.FromString(to_value(value).SerializeToString()))
    assert same(back, value) and type(back) is type(value)


@pytest.mark.parametrize("name", KINDS)
def test_each_kind_is_its_tag_around_the_nearest_plain_value(name: str) -> None:
    """On the wire: Tagged{tag, value}, whose value alone decodes to the documented plain value."""
    value, tag, plain = KINDS[name]
    message = to_value(value)
    assert (message.WhichOneof("kind"), message.tagged_value.tag) == ("tagged_value", tag)
    assert same(from_value(message.tagged_value.value), plain)


def test_kinds_nested_in_lists_structs_and_each_other_round_trip() -> None:
    """Tags nest: a tuple of sets of dates inside a struct inside a list keeps every type."""
    value = [
        {
            "when": (datetime.date(2026, 1, 2), {datetime.date(2026, 1, 3)}),
            "ids": frozenset({ID}),
            "pairs": [(1, 2.5j), (datetime.timedelta(seconds=1), datetime.time(1))],
            "plain": [1, "x", None],
        }
    ]
    assert same(from_value(to_value(value)), value)


def test_a_datetime_stays_a_datetime_and_a_list_a_list() -> None:
    """The untagged kinds are unchanged: datetime (a date subclass) is not py:date, a list not py:tuple."""
    assert to_value(datetime.datetime(2026, 1, 2)).WhichOneof("kind") == "datetime_value"
    assert to_value([1]).WhichOneof("kind") == "list_value"


class Point(NamedTuple):
    x: int
    y: int


def test_subclasses_travel_as_their_base() -> None:
    """A NamedTuple is a tuple: it arrives as a plain tuple, as pickle-free peers cannot name its class."""
    back = from_value(to_value(Point(1, 2)))
    assert (back, type(back)) == ((1, 2), tuple)


def tagged(tag: str, inner: Any) -> value_pb2.Value:
    return value_pb2.Value(tagged_value=value_pb2.Tagged(tag=tag, value=to_value(inner)))


@pytest.mark.parametrize(
    ("tag", "inner"),
    [
        ("go:duration", 5),
        ("py:date", "not a date"),
        ("py:date", 20260102),
        ("py:timedelta", "5"),
        ("py:timedelta", 10**30),
        ("py:uuid", "xyz"),
        ("py:set", [[1], [2]]),
        ("py:complex", [1.0]),
        ("py:complex", [1, 2]),
        ("py:tuple", {"a": 1}),
    ],
)
def test_an_unknown_tag_or_a_misfit_value_reads_as_the_inner_value(tag: str, inner: Any) -> None:
    """A reader ignores a tag it does not know, or whose value does not fit it, and never fails."""
    assert same(from_value(tagged(tag, inner)), inner)


def test_a_time_offset_finer_than_seconds_is_refused() -> None:
    """Offsets travel in whole seconds (as a datetime's do): a finer one is a TypeError, not rounded."""
    odd = datetime.timezone(datetime.timedelta(microseconds=5))
    with pytest.raises(TypeError, match="whole seconds"):
        to_value(datetime.time(1, tzinfo=odd))


@pytest.mark.parametrize(
    ("hint", "name"),
    [
        (tuple[int, int], "array"),
        (set[str], "array"),
        (frozenset, "array"),
        (complex, "array"),
        (datetime.date, "dateTime.iso8601"),
        (datetime.time, "string"),
        (datetime.timedelta, "double"),
        (uuid.UUID, "string"),
    ],
)
def test_signatures_name_the_type_an_xmlrpc_client_receives(hint: Any, name: str) -> None:
    """system.methodSignature reports a Python type hint as the XML-RPC type it is written as."""
    assert type_name_for_hint(hint) == name
