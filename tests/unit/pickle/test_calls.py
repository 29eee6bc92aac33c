"""Call shapes (kwargs dict, (args, kwargs) pair) and replies (pickled result or error dict, status)."""

from __future__ import annotations

import datetime
import decimal
import pickle
from typing import Any

import pytest

from bridge.calls import Call, Success
from bridge.errors import Fault
from bridge.faults import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    UNAUTHENTICATED,
    VALUE_NOT_REPRESENTABLE,
    fault,
)
from bridge.protocols.pickle_http import REPLY_PROTOCOL, decode_call, encode_outcome, load_plain
from bridge.settings import Limits

LIMITS = Limits()


def refusal(body: bytes, procedure: str = "math.add") -> Fault:
    with pytest.raises(Fault) as caught:
        decode_call(procedure, body, LIMITS)
    return caught.value


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"a": 1, "b": 2}, Call("math.add", (), {"a": 1, "b": 2})),
        ({}, Call("math.add", (), {})),
        (((1, 2), {}), Call("math.add", (1, 2))),
        ([[1, 2], {}], Call("math.add", (1, 2))),
        (((), {"a": 1, "b": 2}), Call("math.add", (), {"a": 1, "b": 2})),
        (((), {}), Call("math.add", ())),
    ],
    ids=["kwargs", "empty kwargs", "args tuple", "args list", "kwargs in the pair", "empty pair"],
)
def test_call_shapes(payload: Any, expected: Call) -> None:
    """A kwargs dict calls by name; an (args, kwargs) pair by position, or by name when args is empty."""
    for protocol in (0, 2, 5):
        assert decode_call("math.add", pickle.dumps(payload, protocol), LIMITS) == expected


def test_args_and_kwargs_together_are_refused() -> None:
    """A Call carries arguments by position or by name: a pair with both is -32600, not a guess."""
    failure = refusal(pickle.dumps(((1,), {"b": 2})))
    assert (failure.code, failure.data) == (
        INVALID_REQUEST,
        "pass arguments by position or by name, not both",
    )


@pytest.mark.parametrize(
    ("payload", "shape"),
    [
        ([1, 2], "list"),
        ((1, 2, 3), "tuple"),
        (5, "int"),
        ("a", "str"),
        (None, "NoneType"),
        (((1,), [2]), "tuple"),
    ],
)
def test_other_shapes_are_refused(payload: Any, shape: str) -> None:
    """Anything but a dict or an (args, kwargs) pair is an invalid request naming what came."""
    failure = refusal(pickle.dumps(payload))
    assert failure.code == INVALID_REQUEST
    assert failure.data == f"the body must be a kwargs dict or an (args, kwargs) pair, not {shape}"


def test_kwargs_with_non_str_keys_are_refused() -> None:
    """Keyword names must be str: {1: 2} cannot become a call."""
    assert refusal(pickle.dumps({1: 2})).code == VALUE_NOT_REPRESENTABLE


@pytest.mark.parametrize("procedure", ["", "has space", "new\nline", "x" * 257])
def test_bad_procedure_names_are_refused(procedure: str) -> None:
    """The name from the URL must be 1..256 printable characters without spaces."""
    assert refusal(pickle.dumps({}), procedure).code == INVALID_REQUEST


def test_result_is_pickled_with_status_200() -> None:
    """A result is pickled at protocol 4, readable by any Python since 3.4."""
    value = {"when": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC), "d": decimal.Decimal("1.5")}
    status, body = encode_outcome(Success(value))
    assert (status, body[:2]) == (200, b"\x80" + bytes([REPLY_PROTOCOL]))
    assert load_plain(body, LIMITS) == value


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (Fault(1, "division by zero"), 422),
        (Fault(404, "an application code that looks like HTTP"), 422),
        (fault(METHOD_NOT_FOUND), 404),
        (fault(INVALID_PARAMS, data="missing a required argument: 'b'"), 400),
        (fault(UNAUTHENTICATED), 401),
        (fault(INTERNAL_ERROR, data={"request_id": "r1"}), 500),
    ],
)
def test_fault_is_a_pickled_error_dict_with_its_status(failure: Fault, status: int) -> None:
    """A fault comes back as {"error": {code, message, data}}, 4xx/5xx from bridge.faults' table."""
    got_status, body = encode_outcome(failure)
    assert got_status == status
    assert load_plain(body, LIMITS) == {
        "error": {"code": failure.code, "message": failure.message, "data": failure.data}
    }
