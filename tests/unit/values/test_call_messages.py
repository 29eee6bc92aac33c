"""Calls and outcomes through their protobuf messages and bytes, values filled in place."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.calls import Call, Success
from bridge.errors import Fault
from bridge.rpc.invoke_codec import call_from_bytes, outcome_bytes, outcome_from_bytes
from bridge.rpc.values import call_to_request
from tests.neutral_values import same

VALUES: list[Any] = [
    *("", "text", "\u00e9\U0001f600", 0, -(1 << 70), 1.5, True, None, b"\x00"),
    *([], {}, ["a", {"k": [1]}]),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_positional_and_named_calls_round_trip(value: Any) -> None:
    """Every value comes back equal and of its type, by position and by name."""
    for call in (Call("p", (value, value)), Call("p", (), {"a": value, "b": "x"})):
        back = call_from_bytes(call_to_request(call, 2, "xmlrpc").SerializeToString())
        assert back.procedure == "p"
        assert same(back.params, call.params)
        assert (back.named is None) == (call.named is None)
        if call.named is not None:
            assert back.named is not None and list(back.named) == list(call.named)
            assert all(same(back.named[key], item) for key, item in call.named.items())


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_results_round_trip(value: Any) -> None:
    """A result, the empty string included, stays a result of the same value."""
    back = outcome_from_bytes(outcome_bytes(Success(value)))
    assert isinstance(back, Success) and same(back.value, value)


@pytest.mark.parametrize(
    "fault", [Fault(0, ""), Fault(-32601, "Method not found"), Fault(7, "x", {"request_id": "r"})]
)
def test_faults_round_trip_even_when_empty(fault: Fault) -> None:
    """A fault with code 0 and no message is still a fault, not an empty result."""
    back = outcome_from_bytes(outcome_bytes(fault))
    assert isinstance(back, Fault)
    assert (back.code, back.message, back.data) == (fault.code, fault.message, fault.data)


def test_a_lone_surrogate_is_refused_as_a_type_error() -> None:
    """A string protobuf cannot carry is a TypeError, the fast path for strings included."""
    with pytest.raises(TypeError, match="surrogate"):
        call_to_request(Call("p", ("\ud800",)))
    with pytest.raises(TypeError, match="surrogate"):
        outcome_bytes(Success("\ud800"))
