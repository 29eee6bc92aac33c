"""Property tests: JSON-representable neutral values keep type and value through the codec."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.calls import ABSENT, Call, Success
from bridge.errors import Fault
from bridge.faults import VALUE_NOT_REPRESENTABLE
from bridge.protocols.jsonrpc import (
    Message,
    Request,
    decode_batch_response,
    decode_message,
    decode_response,
    encode_error,
    encode_replies,
    encode_request,
)
from bridge.settings import Limits

# No example database on disk, no deadline: this suite asserts behaviour, never time.
PROPERTY = settings(database=None, deadline=None)
LIMITS = Limits()
SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)
IDS = st.none() | st.text() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)


def typed(value: Any) -> Any:
    """A form that differs whenever type or value differs: 1 vs 1.0 vs True, 0.0 vs -0.0, key order."""
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    if isinstance(value, dict):
        return ("dict", [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


@PROPERTY
@given(procedure=st.text(), params=st.lists(VALUES, max_size=6), request_id=IDS)
def test_positional_request_round_trip(procedure: str, params: list[Any], request_id: Any) -> None:
    """encode_request then decode_message gives back the procedure, the params and the id, exactly."""
    (request,) = decode_message(encode_request(procedure, params, request_id), LIMITS).requests
    if procedure.startswith("rpc.") and procedure != "rpc.discover":
        assert request.call is None
        return
    assert request.call is not None
    assert request.call.procedure == procedure
    assert typed(list(request.call.params)) == typed(params)
    assert request.call.named is None
    assert typed(request.id) == typed(request_id)


@PROPERTY
@given(params=st.dictionaries(st.text(), VALUES, max_size=6))
def test_named_request_round_trip(params: dict[str, Any]) -> None:
    """Named params come back as the same mapping, in the same order; a notification stays one."""
    (request,) = decode_message(encode_request("m", params, ABSENT), LIMITS).requests
    assert request.id is ABSENT
    assert request.call is not None
    assert request.call.params == ()
    assert request.call.named is not None
    assert typed(dict(request.call.named)) == typed(params)


@PROPERTY
@given(value=VALUES, request_id=IDS)
def test_result_round_trip(value: Any, request_id: Any) -> None:
    """encode_replies then decode_response gives back the same result, type and value."""
    reply = encode_replies(Message((Request(request_id, Call("m")),), batch=False), [Success(value)])
    assert reply is not None
    outcome = decode_response(reply, LIMITS)
    assert isinstance(outcome, Success)
    assert typed(outcome.value) == typed(value)


@PROPERTY
@given(code=st.integers(), message=st.text(), data=st.none() | VALUES)
def test_fault_round_trip(code: int, message: str, data: Any) -> None:
    """A fault's code, message and data survive encode_replies and encode_error."""
    reply = encode_replies(Message((Request(1, Call("m")),), batch=False), [Fault(code, message, data)])
    assert reply is not None
    for body in (reply, encode_error(Fault(code, message, data))):
        outcome = decode_response(body, LIMITS)
        assert isinstance(outcome, Fault)
        assert (outcome.code, outcome.message, typed(outcome.data)) == (code, message, typed(data))


@PROPERTY
@given(values=st.lists(VALUES, min_size=1, max_size=8))
def test_batch_round_trip(values: list[Any]) -> None:
    """A batch of replies comes back keyed by id, each result unchanged."""
    requests = tuple(Request(f"id-{index}", Call("m")) for index in range(len(values)))
    reply = encode_replies(Message(requests, batch=True), [Success(value) for value in values])
    assert reply is not None
    outcomes = decode_batch_response(reply, LIMITS)
    assert list(outcomes) == [f"id-{index}" for index in range(len(values))]
    for index, value in enumerate(values):
        outcome = outcomes[f"id-{index}"]
        assert isinstance(outcome, Success)
        assert typed(outcome.value) == typed(value)


@PROPERTY
@given(text=st.text(st.characters(codec=None, categories=["Cs", "Lu", "Ll", "So"])))
def test_any_code_point_round_trips(text: str) -> None:
    """Strings keep every code point, lone surrogates included, in valid UTF-8, or are refused.

    Only a high surrogate directly followed by a low one is refused: JSON reads it as one character.
    """
    reply = encode_replies(Message((Request(1, Call("m")),), batch=False), [Success(text)])
    assert reply is not None
    reply.decode("utf-8")
    outcome = decode_response(reply, LIMITS)
    if SURROGATE_PAIR.search(text):
        assert isinstance(outcome, Fault)
        assert outcome.code == VALUE_NOT_REPRESENTABLE
    else:
        assert outcome == Success(text)
