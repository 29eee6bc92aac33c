"""Client side: encode_request, decode_response and decode_batch_response against section 5."""

from __future__ import annotations

import decimal
import json
from collections import OrderedDict
from typing import Any

import pytest

from bridge.calls import ABSENT, Call, Success
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE, VALUE_NOT_REPRESENTABLE
from bridge.protocols.jsonrpc import (
    Request,
    decode_batch_response,
    decode_message,
    decode_response,
    encode_request,
)
from bridge.settings import Limits

LIMITS = Limits()


# encode_request ----------------------------------------------------------------------------------


def test_request_is_compact_and_ordered() -> None:
    """A request is {"jsonrpc","method","params","id"}, in that order, with no spaces."""
    assert encode_request("subtract", [42, 23], 1) == (
        b'{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}'
    )


def test_named_params_are_an_object() -> None:
    """A mapping of params is sent by-name as an Object (section 4.2), in its order."""
    body = encode_request("subtract", OrderedDict([("minuend", 42), ("subtrahend", 23)]), "a")
    assert body == b'{"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23},"id":"a"}'


def test_notification_has_no_id_member() -> None:
    """id=ABSENT sends a notification: no "id" member at all (section 4.1)."""
    assert encode_request("update", (1, 2), ABSENT) == b'{"jsonrpc":"2.0","method":"update","params":[1,2]}'


def test_null_id_is_sent_as_null() -> None:
    """id=None is a request with id null, not a notification."""
    assert encode_request("m", None, None) == b'{"jsonrpc":"2.0","method":"m","id":null}'


def test_params_none_leaves_params_out() -> None:
    """params=None omits the member, which section 4 allows."""
    assert "params" not in json.loads(encode_request("m", None, 1))


def test_request_decodes_back_into_the_call() -> None:
    """What encode_request writes, decode_message reads back as the same call and id."""
    message = decode_message(encode_request("add", [1, 2.5, "x", [None]], 9), LIMITS)
    assert message.requests == (Request(9, Call("add", (1, 2.5, "x", [None]))),)


@pytest.mark.parametrize("params", ["abc", b"abc", 5], ids=repr)
def test_params_of_wrong_type_are_refused(params: Any) -> None:
    """A string, bytes or scalar is not a params sequence: TypeError, not a list of characters."""
    with pytest.raises(TypeError, match="params"):
        encode_request("m", params, 1)


@pytest.mark.parametrize("request_id", [True, [1], {"a": 1}, b"1"], ids=repr)
def test_id_of_wrong_type_is_refused(request_id: Any) -> None:
    """An id that is not a str, number or None is refused before anything is sent."""
    with pytest.raises(TypeError, match="id"):
        encode_request("m", None, request_id)


def test_procedure_must_be_a_string() -> None:
    """A non-str procedure name is refused."""
    with pytest.raises(TypeError, match="procedure"):
        encode_request(1, None, 1)  # type: ignore[arg-type]


def test_unrepresentable_argument_is_a_fault() -> None:
    """An argument JSON cannot express raises -32007 naming it, rather than being changed."""
    with pytest.raises(Fault) as caught:
        encode_request("m", [1, b"raw"], 1)
    assert caught.value.code == VALUE_NOT_REPRESENTABLE
    assert caught.value.data == "params[1] is bytes, which JSON cannot express"


def test_nan_id_is_a_fault() -> None:
    """A NaN id cannot be written in JSON and is refused."""
    with pytest.raises(Fault) as caught:
        encode_request("m", None, float("nan"))
    assert caught.value.code == VALUE_NOT_REPRESENTABLE


def test_decimal_argument_is_exact_text() -> None:
    """A Decimal argument is written as its exact number text."""
    assert encode_request("m", {"amount": decimal.Decimal("10.50")}, 1) == (
        b'{"jsonrpc":"2.0","method":"m","params":{"amount":10.50},"id":1}'
    )


# decode_response ---------------------------------------------------------------------------------


def test_result_becomes_success() -> None:
    """A reply with "result" is a Success holding it."""
    assert decode_response(b'{"jsonrpc": "2.0", "result": [1, 2.0], "id": 1}', LIMITS) == Success([1, 2.0])


def test_null_result_is_success_none() -> None:
    """ "result": null is a successful None, not an error."""
    assert decode_response(b'{"jsonrpc":"2.0","result":null,"id":1}', LIMITS) == Success(None)


def test_error_becomes_fault_with_data() -> None:
    """A reply with "error" is a Fault with its code, message and data."""
    body = b'{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":{"x":1}},"id":"1"}'
    assert decode_response(body, LIMITS) == Fault(-32601, "Method not found", {"x": 1})


def test_error_without_data_has_none() -> None:
    """An error object without "data" gives a Fault whose data is None."""
    body = b'{"jsonrpc":"2.0","error":{"code":4,"message":"m"},"id":null}'
    assert decode_response(body, LIMITS) == Fault(4, "m")


@pytest.mark.parametrize(
    "document",
    [
        [{"jsonrpc": "2.0", "result": 1, "id": 1}],
        "text",
        {"result": 1, "id": 1},
        {"jsonrpc": "1.0", "result": 1, "id": 1},
        {"jsonrpc": "2.0", "result": 1},
        {"jsonrpc": "2.0", "result": 1, "id": True},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "result": None, "error": {"code": 1, "message": "m"}, "id": 1},
        {"jsonrpc": "2.0", "error": "boom", "id": 1},
        {"jsonrpc": "2.0", "error": {"code": 1.0, "message": "m"}, "id": 1},
        {"jsonrpc": "2.0", "error": {"code": True, "message": "m"}, "id": 1},
        {"jsonrpc": "2.0", "error": {"code": "1", "message": "m"}, "id": 1},
        {"jsonrpc": "2.0", "error": {"code": 1}, "id": 1},
        {"jsonrpc": "2.0", "error": {"code": 1, "message": None}, "id": 1},
    ],
    ids=[
        "array",
        "string",
        "no-jsonrpc",
        "jsonrpc-1.0",
        "no-id",
        "bool-id",
        "neither-result-nor-error",
        "both-result-and-error",
        "error-not-object",
        "float-code",
        "bool-code",
        "string-code",
        "no-message",
        "null-message",
    ],
)
def test_malformed_response_is_refused(document: Any) -> None:
    """A reply that breaks section 5 raises -32600 "Invalid response: ..." instead of guessing."""
    with pytest.raises(Fault) as caught:
        decode_response(json.dumps(document).encode(), LIMITS)
    assert caught.value.code == INVALID_REQUEST
    assert caught.value.message.startswith("Invalid response: ")


def test_response_that_is_not_json_is_parse_error() -> None:
    """A reply that is not JSON raises Parse error."""
    with pytest.raises(Fault) as caught:
        decode_response(b"<html>502</html>", LIMITS)
    assert caught.value.code == PARSE_ERROR


def test_response_over_body_limit_is_refused() -> None:
    """The body limit applies to replies as well."""
    with pytest.raises(Fault) as caught:
        decode_response(
            b'{"jsonrpc":"2.0","result":"' + b"x" * 200 + b'","id":1}', Limits(max_body_bytes=100)
        )
    assert caught.value.code == REQUEST_TOO_LARGE


# decode_batch_response ---------------------------------------------------------------------------


def test_batch_response_is_keyed_by_id() -> None:
    """Replies to a batch are matched by id (section 6), whatever order they come in."""
    body = b"""[
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 5}
    ]"""
    assert decode_batch_response(body, LIMITS) == {
        "9": Success(["hello", 5]),
        "1": Success(7),
        5: Fault(-32601, "Method not found"),
    }


def test_single_error_to_a_batch_is_one_entry() -> None:
    """A single Response object (the server could not read the batch, section 6) is one entry."""
    body = b'{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}'
    assert decode_batch_response(body, LIMITS) == {None: Fault(-32700, "Parse error")}


def test_empty_array_response_is_invalid() -> None:
    """Section 6: "the server MUST NOT return an empty Array"."""
    with pytest.raises(Fault) as caught:
        decode_batch_response(b"[]", LIMITS)
    assert caught.value.code == INVALID_REQUEST


def test_duplicate_ids_in_batch_response_are_invalid() -> None:
    """Two replies with the same id cannot both be matched: the response is invalid."""
    body = b'[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","result":2,"id":1}]'
    with pytest.raises(Fault) as caught:
        decode_batch_response(body, LIMITS)
    assert caught.value.code == INVALID_REQUEST
    assert "two replies with id 1" in caught.value.message


def test_first_null_id_reply_is_kept() -> None:
    """Several replies with id null cannot be matched to requests; the first one is kept."""
    body = (
        b'[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null},'
        b'{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":null},'
        b'{"jsonrpc":"2.0","result":3,"id":3}]'
    )
    assert decode_batch_response(body, LIMITS) == {
        None: Fault(-32600, "Invalid Request"),
        3: Success(3),
    }


def test_malformed_member_spoils_the_batch_response() -> None:
    """One reply that breaks section 5 makes the batch response invalid."""
    body = b'[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","id":2}]'
    with pytest.raises(Fault) as caught:
        decode_batch_response(body, LIMITS)
    assert caught.value.code == INVALID_REQUEST


def test_batch_response_over_limit_is_refused() -> None:
    """A batch reply longer than max_batch is refused."""
    body = json.dumps([{"jsonrpc": "2.0", "result": n, "id": n} for n in range(4)]).encode()
    with pytest.raises(Fault) as caught:
        decode_batch_response(body, Limits(max_batch=3))
    assert caught.value.code == REQUEST_TOO_LARGE
