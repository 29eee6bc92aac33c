"""system.multicall: expansion into calls, per-entry faults, limits, and the result shape."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.calls import Call, Success
from bridge.errors import Fault
from bridge.faults import INVALID_PARAMS, INVALID_REQUEST, REQUEST_TOO_LARGE, VALUE_NOT_REPRESENTABLE
from bridge.protocols.xmlrpc import (
    MULTICALL,
    decode_outcome,
    encode_outcome,
    expand_multicall,
    multicall_result,
)
from bridge.settings import Limits

LIMITS = Limits()


def multicall(*entries: Any) -> Call:
    """A system.multicall call whose one param is the array of `entries`."""
    return Call(MULTICALL, (list(entries),))


def test_entries_expand_to_calls_in_order() -> None:
    """Each {methodName, params} entry becomes one Call, in order, with params as a tuple."""
    slots = expand_multicall(
        multicall(
            {"methodName": "math.add", "params": [2, 3]},
            {"methodName": "echo", "params": [{"nested": [1]}]},
            {"methodName": "system.listMethods", "params": []},
        ),
        LIMITS,
    )
    assert slots == [
        Call("math.add", (2, 3)),
        Call("echo", ({"nested": [1]},)),
        Call("system.listMethods", ()),
    ]


def test_missing_params_member_means_no_params() -> None:
    """An entry without a params member is a call with no params."""
    assert expand_multicall(multicall({"methodName": "ping"}), LIMITS) == [Call("ping", ())]


def test_empty_multicall_expands_to_nothing() -> None:
    """system.multicall([]) expands to no calls, and its result is an empty array."""
    assert expand_multicall(multicall(), LIMITS) == []
    assert multicall_result([]) == []


def test_nested_multicall_is_refused_in_its_slot_only() -> None:
    """A system.multicall entry inside system.multicall becomes a fault in that slot; the others still run."""
    slots = expand_multicall(
        multicall(
            {"methodName": "a", "params": []},
            {"methodName": MULTICALL, "params": [[{"methodName": "a", "params": []}]]},
            {"methodName": "b", "params": [1]},
        ),
        LIMITS,
    )
    assert slots[0] == Call("a", ())
    assert isinstance(slots[1], Fault)
    assert slots[1].code == INVALID_REQUEST
    assert MULTICALL in str(slots[1].data)
    assert slots[2] == Call("b", (1,))


@pytest.mark.parametrize(
    "entry",
    [
        "not a struct",
        ["methodName", "a"],
        {},
        {"params": []},
        {"methodName": 42, "params": []},
        {"methodName": "", "params": []},
        {"methodName": "a", "params": "not an array"},
        {"methodName": "a", "params": {"named": 1}},
    ],
)
def test_bad_entry_becomes_a_fault_in_its_slot(entry: Any) -> None:
    """An entry that is not {methodName: non-empty str, params: array} becomes an invalid-request fault."""
    slots = expand_multicall(multicall({"methodName": "ok", "params": []}, entry), LIMITS)
    assert slots[0] == Call("ok", ())
    assert isinstance(slots[1], Fault)
    assert slots[1].code == INVALID_REQUEST
    assert "entry 1" in str(slots[1].data)


@pytest.mark.parametrize(
    "call",
    [
        Call(MULTICALL, ()),
        Call(MULTICALL, ([], [])),
        Call(MULTICALL, ("not an array",)),
        Call(MULTICALL, ({"methodName": "a"},)),
        Call(MULTICALL, (), named={"calls": []}),
    ],
)
def test_params_other_than_one_array_are_invalid_params(call: Call) -> None:
    """system.multicall raises Invalid params unless its params are exactly one array."""
    with pytest.raises(Fault) as caught:
        expand_multicall(call, LIMITS)
    assert caught.value.code == INVALID_PARAMS


def test_more_entries_than_the_limit_is_too_large() -> None:
    """max_multicall entries are accepted; one more is refused as too large before any is looked at."""
    entries = [{"methodName": "a", "params": []}] * 5
    assert len(expand_multicall(multicall(*entries), Limits(max_multicall=5))) == 5
    with pytest.raises(Fault) as caught:
        expand_multicall(multicall(*entries, "junk"), Limits(max_multicall=5))
    assert caught.value.code == REQUEST_TOO_LARGE


def test_result_shape_follows_the_multicall_spec() -> None:
    """Successes become one-element arrays, faults become {faultCode, faultString} structs."""
    result = multicall_result(
        [
            Success(5),
            Fault(-32601, "Method not found"),
            Success(None),
            Fault(4, "Too many parameters", "only two accepted"),
            Fault(5, "No detail", {"structured": True}),
        ]
    )
    assert result == [
        [5],
        {"faultCode": -32601, "faultString": "Method not found"},
        [None],
        {"faultCode": 4, "faultString": "Too many parameters: only two accepted"},
        {"faultCode": 5, "faultString": "No detail"},
    ]


def test_unrepresentable_result_faults_only_its_slot() -> None:
    """A success XML-RPC cannot express becomes a -32007 fault in its slot; the other results survive."""
    result = multicall_result([Success(1), Success({"big": 1 << 80}), Success("three")])
    assert result[0] == [1]
    assert result[1]["faultCode"] == VALUE_NOT_REPRESENTABLE
    assert "result[1]['big']" in result[1]["faultString"]
    assert result[2] == ["three"]
    assert decode_outcome(encode_outcome(Success(result)), LIMITS) == Success(result)
