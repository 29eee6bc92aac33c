"""The allow-list: every allowed type loads at protocols 0-5; neutral values arrive as they were sent."""

from __future__ import annotations

import datetime
import decimal
import math
import pickle
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import Fault
from bridge.faults import VALUE_NOT_REPRESENTABLE
from bridge.protocols.pickle_http import decode_call, load_plain
from bridge.settings import Limits

LIMITS = Limits()
PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))

# Every type of the allow-list, with the values that exercise each of its pickled forms.
ALLOWED: dict[str, Any] = {
    "None": None,
    "bool": True,
    "int": -7,
    "big int": -(2**200),
    "float": 2.5,
    "complex": 1 - 2j,
    "str": "ünïcode \x00 text",
    "bytes": b"\x00\xffbin",
    "empty bytes": b"",
    "bytearray": bytearray(b"\x00ab"),
    "empty bytearray": bytearray(),
    "list": [1, "two"],
    "tuple": (1, "two"),
    "dict": {"a": 1},
    "set": {1, 2},
    "empty set": set(),
    "frozenset": frozenset({"a"}),
    "naive datetime": datetime.datetime(2026, 11, 22, 9, 30, 15, 123456),
    "datetime +02:00": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO),
    "datetime UTC": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
    "date": datetime.date(2026, 1, 2),
    "time": datetime.time(23, 59, 59, 1),
    "timedelta": datetime.timedelta(days=-1, seconds=5, microseconds=7),
    "timezone": datetime.timezone(datetime.timedelta(minutes=-90), "somewhere"),
    "Decimal": decimal.Decimal("-12.340"),
    "UUID": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "UUID with is_safe": uuid.UUID("12345678-1234-5678-1234-567812345678", is_safe=uuid.SafeUUID.safe),
}
# Python's own types, which travel to a worker as tagged values and arrive as they were sent.
PYTHON_TYPES = ("tuple", "complex", "set", "empty set", "frozenset", "date", "time", "timedelta", "UUID")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name", ALLOWED)
def test_every_allowed_type_loads_at_every_protocol(name: str, protocol: int) -> None:
    """Python's own pickles of each allowed type load to an equal value of the same type."""
    value = ALLOWED[name]
    body = pickle.dumps(value, protocol)
    if name.startswith("UUID") and protocol < 2:
        # Protocols 0 and 1 rebuild a UUID with copyreg._reconstructor, which is never allowed.
        with pytest.raises(Fault, match="Invalid Request") as caught:
            load_plain(body, LIMITS)
        assert "copy_reg._reconstructor is not on the allow-list" in caught.value.data
        return
    loaded = load_plain(body, LIMITS)
    # A UUID loads as PlainUUID, the uuid.UUID subclass whose BUILD checks its state.
    assert (loaded, type(value) in type(loaded).__mro__) == (value, True)


@pytest.mark.parametrize(
    ("name", "protocol"),
    # Protocols 0 and 1 pickle a UUID through copyreg._reconstructor, refused before this point.
    [(name, p) for name in PYTHON_TYPES for p in PROTOCOLS if not (name == "UUID" and p < 2)],
)
def test_python_types_arrive_as_themselves(name: str, protocol: int) -> None:
    """A tuple, set, frozenset, date, time, timedelta, UUID or complex reaches the worker unchanged."""
    call = decode_call("echo.any", pickle.dumps({"value": ALLOWED[name]}, protocol), LIMITS)
    assert call.named is not None
    value = call.named["value"]
    # uuid.UUID itself, not the loader's PlainUUID: the worker gets the standard type.
    assert (value, type(value)) == (ALLOWED[name], type(ALLOWED[name]))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_bare_timezone_is_refused_by_name(protocol: int) -> None:
    """A timezone loads (aware datetimes need it) but is no value of its own: a clear -32007."""
    with pytest.raises(Fault) as caught:
        decode_call("echo.any", pickle.dumps({"value": ALLOWED["timezone"]}, protocol), LIMITS)
    assert (caught.value.code, caught.value.data) == (
        VALUE_NOT_REPRESENTABLE,
        "type datetime.timezone cannot be carried to a worker",
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_time_offset_with_microseconds_is_refused(protocol: int) -> None:
    """rpcbridge.v1.Value carries offsets in whole seconds, so a finer one is refused, not rounded."""
    odd = datetime.timezone(datetime.timedelta(seconds=1, microseconds=5))
    with pytest.raises(Fault) as caught:
        decode_call("echo.any", pickle.dumps({"value": datetime.time(1, tzinfo=odd)}, protocol), LIMITS)
    assert (caught.value.code, caught.value.data) == (
        VALUE_NOT_REPRESENTABLE,
        "a time's UTC offset must be whole seconds",
    )


def test_carried_values_arrive_as_neutral_values() -> None:
    """bytearray -> bytes; everything else, tuples nested in sets included, keeps type and value."""
    sent = {
        "tuple": (1, (2, 3)),
        "bytearray": bytearray(b"ab"),
        "big": 2**100,
        "aware": ALLOWED["datetime +02:00"],
        "decimal": decimal.Decimal("1.50"),
        "inf": math.inf,
        "set of dates and UUIDs": {ALLOWED["date"], ALLOWED["UUID"]},
    }
    call = decode_call("echo.any", pickle.dumps(sent, 2), LIMITS)
    assert call.named == {**sent, "bytearray": b"ab"}
    assert [type(v) for v in call.named.values()] == [
        tuple,
        bytes,
        int,
        datetime.datetime,
        decimal.Decimal,
        float,
        set,
    ]
    assert {type(member) for member in call.named["set of dates and UUIDs"]} == {datetime.date, uuid.UUID}


def test_nan_arrives_as_nan() -> None:
    """NaN, which equals nothing, still arrives as a float NaN."""
    call = decode_call("echo.any", pickle.dumps({"value": math.nan}), LIMITS)
    assert call.named is not None
    assert math.isnan(call.named["value"])


def test_python_2_pickles_load() -> None:
    """Protocol 2 as Python 2 wrote it: str keys as SHORT_BINSTRING, text as BINUNICODE."""
    body = b"\x80\x02}q\x00(U\x01aq\x01K\x01U\x04nameq\x02X\x03\x00\x00\x00bobq\x03u."
    assert decode_call("m", body, LIMITS).named == {"a": 1, "name": "bob"}


def test_shared_values_arrive_once_per_reference() -> None:
    """A list referenced twice (memo GET) arrives as two equal lists."""
    shared = [1, 2]
    assert decode_call("m", pickle.dumps({"a": shared, "b": shared}), LIMITS).named == {
        "a": [1, 2],
        "b": [1, 2],
    }


# ----------------------------------------------------------------------------------- round trips

offsets = st.integers(-86_399, 86_399).map(lambda s: datetime.timezone(datetime.timedelta(seconds=s)))
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.binary().map(bytearray)
    | st.datetimes(timezones=st.none() | offsets)
    | st.decimals(allow_nan=False)
)
plain_data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def neutral(value: Any) -> Any:
    """What a value becomes on its way to a worker."""
    if isinstance(value, dict):
        return {key: neutral(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(neutral(item) for item in value)
    return bytes(value) if isinstance(value, bytearray) else value


def typed(value: Any) -> Any:
    """The value with every type spelled out, so that 1 == 1.0 == True cannot hide a change."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    return (type(value).__name__, value)


@given(plain_data, st.sampled_from(PROTOCOLS))
def test_plain_data_round_trips_at_every_protocol(value: Any, protocol: int) -> None:
    """Any plain data pickled at any protocol arrives as its neutral form, type for type."""
    call = decode_call("echo.any", pickle.dumps({"value": value}, protocol), LIMITS)
    assert call.named is not None
    assert typed(call.named["value"]) == typed(neutral(value))


@given(st.lists(plain_data, max_size=3), st.sampled_from(PROTOCOLS))
def test_positional_arguments_round_trip(args: list[Any], protocol: int) -> None:
    """An (args, {}) pair arrives as positional params in order."""
    call = decode_call("echo.any", pickle.dumps((tuple(args), {}), protocol), LIMITS)
    assert typed(call.params) == typed(neutral(tuple(args)))
