"""Interop with Python's xmlrpc.client: it writes what we read, and reads what we write."""

from __future__ import annotations

import datetime
import xmlrpc.client
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.calls import Success
from bridge.errors import Fault
from bridge.protocols.xmlrpc import decode_call, decode_outcome, encode_call, encode_outcome
from tests.neutral_values import same
from tests.unit.xmlrpc.values import ROOMY, stdlib_values, stdlib_values_without_cr, xml_text

# Our writer goes beyond xmlrpc.client's reader only in fractional seconds and offsets of dateTime.
ours_for_stdlib = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(1 << 63), (1 << 63) - 1),
        st.floats(),
        xml_text,
        st.binary(),
        st.datetimes(min_value=datetime.datetime(1000, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    ),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(xml_text, children, max_size=5),
    max_leaves=25,
)


def _stdlib_loads(body: bytes) -> tuple[tuple[Any, ...], str | None]:
    params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    return params, method


@given(st.lists(stdlib_values, max_size=4), st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:/]{0,30}", fullmatch=True))
def test_stdlib_methodcall_decodes_as_stdlib_reads_it(params: list[Any], method: str) -> None:
    """A methodCall from xmlrpc.client.dumps decodes to the values xmlrpc.client itself reads from it."""
    body = xmlrpc.client.dumps(tuple(params), method, allow_none=True).encode()
    call = decode_call(body, ROOMY)
    stdlib_params, stdlib_method = _stdlib_loads(body)
    assert call.procedure == stdlib_method
    assert same(call.params, stdlib_params)


@given(stdlib_values_without_cr)
def test_stdlib_methodcall_keeps_values(value: Any) -> None:
    """Values xmlrpc.client can carry (it does not escape \\r) arrive unchanged through its dumps."""
    body = xmlrpc.client.dumps((value,), "echo", allow_none=True).encode()
    assert same(decode_call(body, ROOMY).params, (value,))


@given(stdlib_values)
def test_stdlib_methodresponse_decodes(value: Any) -> None:
    """A methodResponse from xmlrpc.client.dumps decodes, client side, to the same value."""
    body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()
    assert same(decode_outcome(body, ROOMY), Success(_stdlib_loads(body)[0][0]))


def test_stdlib_fault_response_decodes() -> None:
    """A fault written by xmlrpc.client decodes to a Fault with its code and string."""
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(4, "Too many parameters."), methodresponse=True).encode()
    assert decode_outcome(body, ROOMY) == Fault(4, "Too many parameters.")


@given(ours_for_stdlib)
def test_our_response_loads_in_stdlib(value: Any) -> None:
    """encode_outcome output loads in xmlrpc.client to the same value (i8, nil and \\r included)."""
    params, method = _stdlib_loads(encode_outcome(Success(value)))
    assert method is None
    assert same(params, (value,))


@given(st.lists(ours_for_stdlib, max_size=4))
def test_our_call_loads_in_stdlib(params: list[Any]) -> None:
    """encode_call output loads in xmlrpc.client to the same method name and params."""
    loaded, method = _stdlib_loads(encode_call("sample.method", params))
    assert method == "sample.method"
    assert same(loaded, tuple(params))


def test_our_fault_response_raises_stdlib_fault() -> None:
    """Our fault response is read by xmlrpc.client as a Fault with our code and faultString."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        _stdlib_loads(encode_outcome(Fault(-32601, "Method not found", "no procedure 'x'")))
    assert caught.value.faultCode == -32601
    assert caught.value.faultString == "Method not found: no procedure 'x'"


def test_stdlib_server_style_naive_datetime_round_trip() -> None:
    """A naive datetime written by xmlrpc.client reads back as the same naive datetime."""
    moment = datetime.datetime(2024, 2, 29, 23, 59, 59)
    body = xmlrpc.client.dumps((moment,), "when").encode()
    assert same(decode_call(body, ROOMY).params, (moment,))
