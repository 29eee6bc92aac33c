"""Property tests: every representable neutral value survives encode -> decode with type and value kept."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.calls import Call, Success
from bridge.errors import Fault
from bridge.protocols.xmlrpc import decode_call, decode_outcome, encode_call, encode_outcome
from tests.neutral_values import same
from tests.unit.xmlrpc.values import (
    ROOMY,
    aware_datetimes,
    naive_datetimes,
    representable_values,
    xml_text,
)


@given(representable_values)
def test_result_round_trips(value: Any) -> None:
    """encode_outcome then decode_outcome gives back the same value with the same types."""
    assert same(decode_outcome(encode_outcome(Success(value)), ROOMY), Success(value))


@given(
    st.lists(representable_values, max_size=4), st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,30}", fullmatch=True)
)
def test_call_round_trips(params: list[Any], procedure: str) -> None:
    """encode_call then decode_call gives back the same procedure and params."""
    assert same(decode_call(encode_call(procedure, params), ROOMY), Call(procedure, tuple(params)))


@given(st.floats())
def test_floats_round_trip_exactly(value: float) -> None:
    """Every float, NaN and the infinities and -0.0 included, comes back equal (NaN as NaN)."""
    decoded = decode_outcome(encode_outcome(Success(value)), ROOMY)
    assert isinstance(decoded, Success)
    assert same(decoded.value, value)


@given(naive_datetimes | aware_datetimes)
def test_datetimes_keep_offset_and_microseconds(value: Any) -> None:
    """Naive datetimes stay naive; aware ones keep their exact offset; microseconds survive."""
    decoded = decode_outcome(encode_outcome(Success(value)), ROOMY)
    assert isinstance(decoded, Success)
    assert same(decoded.value, value)
    assert (decoded.value.tzinfo is None) == (value.tzinfo is None)


@given(xml_text)
def test_strings_keep_every_character(value: str) -> None:
    """Strings, including \\r, \\r\\n, tabs and leading or trailing spaces, come back unchanged."""
    assert decode_outcome(encode_outcome(Success(value)), ROOMY) == Success(value)


@given(st.integers(), st.text(max_size=30), st.one_of(st.none(), st.text(max_size=30), st.integers()))
def test_any_fault_encodes_to_a_readable_fault(code: int, message: str, data: Any) -> None:
    """Any Fault, even with characters XML cannot carry or a huge code, encodes to a parseable fault."""
    decoded = decode_outcome(encode_outcome(Fault(code, message, data)), ROOMY)
    assert isinstance(decoded, Fault)
    if -(1 << 63) <= code < 1 << 63:
        assert decoded.code == code
