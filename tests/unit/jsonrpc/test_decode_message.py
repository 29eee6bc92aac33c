"""Request decoding: the section 4 member rules, ids, params and the top-level shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.calls import ABSENT, Call
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, fault
from bridge.protocols.jsonrpc import Message, Request, decode_message
from bridge.settings import Limits
from tests.unit.jsonrpc.example_server import answer

LIMITS = Limits()


def decode(document: Any) -> Message:
    return decode_message(json.dumps(document).encode(), LIMITS)


def only(document: Any) -> Request:
    message = decode(document)
    assert not message.batch
    (request,) = message.requests
    return request


def member(**fields: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "echo", **fields}


# ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_id", ["abc", "", 0, 7, -3, 2**80, 1.5, None], ids=repr)
def test_valid_id_is_kept(request_id: Any) -> None:
    """A string, number or null id (section 4) is decoded as given, type included."""
    request = only(member(id=request_id))
    assert request.error is None
    assert request.id == request_id
    assert type(request.id) is type(request_id)


@pytest.mark.parametrize("request_id", ["abc", 7, 1.5, None], ids=repr)
def test_valid_id_is_echoed(request_id: Any) -> None:
    """The reply carries the request's id unchanged, null included (section 5, id)."""
    reply = answer(json.dumps({"jsonrpc": "2.0", "method": "get_data", "id": request_id}))
    assert reply == {"jsonrpc": "2.0", "result": ["hello", 5], "id": request_id}
    assert type(reply["id"]) is type(request_id)


def test_absent_id_is_a_notification_not_null() -> None:
    """A request without "id" is a notification (section 4.1): id ABSENT, which differs from None."""
    request = only(member())
    assert request.id is ABSENT
    assert request.call == Call("echo")
    assert only(member(id=None)).id is None


@pytest.mark.parametrize("request_id", [True, False, {"a": 1}, [1]], ids=repr)
def test_id_of_another_type_is_invalid_request(request_id: Any) -> None:
    """An id that is not a string, number or null makes the member invalid, answered with id null."""
    request = only(member(id=request_id))
    assert request == Request(None, error=fault(INVALID_REQUEST))
    assert answer(json.dumps(member(id=request_id))) == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Invalid Request"},
        "id": None,
    }


def test_invalid_member_with_valid_id_echoes_it() -> None:
    """An invalid member whose id could be read is answered with that id."""
    assert only({"jsonrpc": "2.0", "method": 5, "id": "x"}) == Request("x", error=fault(INVALID_REQUEST))


def test_invalid_member_without_id_still_gets_a_reply() -> None:
    """An invalid member with no id is answered with id null, as in the spec's examples."""
    assert only({"jsonrpc": "2.0", "method": "echo", "params": "bar"}).id is None


# jsonrpc and method ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"method": "echo", "id": 1},
        {"jsonrpc": "1.0", "method": "echo", "id": 1},
        {"jsonrpc": 2.0, "method": "echo", "id": 1},
        {"jsonrpc": "2.0 ", "method": "echo", "id": 1},
        {"jsonrpc": None, "method": "echo", "id": 1},
    ],
    ids=["missing", "1.0", "number", "padded", "null"],
)
def test_jsonrpc_must_be_exactly_2_0(document: dict[str, Any]) -> None:
    """The "jsonrpc" member "MUST be exactly "2.0"" (section 4); anything else is Invalid Request."""
    assert only(document) == Request(1, error=fault(INVALID_REQUEST))


@pytest.mark.parametrize("method", [None, 1, ["echo"], {"name": "echo"}, True], ids=repr)
def test_method_must_be_a_string(method: Any) -> None:
    """A "method" that is not a String (section 4) is Invalid Request."""
    assert only(member(method=method, id=1)) == Request(1, error=fault(INVALID_REQUEST))


def test_missing_method_is_invalid_request() -> None:
    """A request object without "method" is Invalid Request."""
    assert only({"jsonrpc": "2.0", "id": 1}) == Request(1, error=fault(INVALID_REQUEST))


def test_rpc_dot_names_are_reserved() -> None:
    """Names beginning with "rpc." are reserved (section 4): Method not found, the id kept."""
    assert only(member(method="rpc.ping", id=3)) == Request(3, error=fault(METHOD_NOT_FOUND))


def test_rpc_discover_is_the_one_rpc_extension_let_through() -> None:
    """OpenRPC's rpc.discover is an rpc-internal extension the bridge implements: it becomes a call."""
    assert only(member(method="rpc.discover", id=3)).call == Call("rpc.discover")


def test_rpc_dot_notification_stays_unanswered() -> None:
    """A notification to a reserved name is still a notification: no reply (section 4.1)."""
    assert only(member(method="rpc.ping")).id is ABSENT
    assert answer(json.dumps(member(method="rpc.ping"))) is None


@pytest.mark.parametrize("method", ["rpc", "rpcx.a", "RPC.a", "system.rpc.a"])
def test_names_merely_like_rpc_are_not_reserved(method: str) -> None:
    """Only the exact prefix "rpc." (case-sensitive, section 3) is reserved."""
    assert only(member(method=method, id=1)).call == Call(method)


def test_unknown_members_are_ignored() -> None:
    """Members the spec does not define (a legacy "auth", say) do not make a request invalid."""
    assert only(member(id=1, auth="token", params=[1])).call == Call("echo", (1,))


def test_duplicate_keys_last_one_wins() -> None:
    """With a duplicated key (RFC 8259 section 4 leaves it open) the last occurrence is used."""
    body = b'{"jsonrpc": "2.0", "method": "first", "method": "second", "id": 1, "id": 2}'
    (request,) = decode_message(body, LIMITS).requests
    assert request == Request(2, Call("second"))


# params ------------------------------------------------------------------------------------------


def test_positional_params_become_a_tuple() -> None:
    """An Array of params (section 4.2, by-position) becomes `Call.params`, in order."""
    assert only(member(params=[1, "a", None, [2]], id=1)).call == Call("echo", (1, "a", None, [2]))


def test_named_params_become_a_mapping() -> None:
    """An Object of params (section 4.2, by-name) becomes `Call.named`, with `params` empty."""
    call = only(member(params={"b": 2, "a": 1}, id=1)).call
    assert call == Call("echo", (), {"b": 2, "a": 1})
    assert call is not None
    assert call.named is not None
    assert list(call.named) == ["b", "a"]


def test_absent_params_are_no_arguments() -> None:
    """Params "MAY be omitted" (section 4): no positional and no named arguments."""
    assert only(member(id=1)).call == Call("echo", (), None)


def test_empty_structured_params_are_kept_apart() -> None:
    """`[]` gives no positional arguments; `{}` gives an empty named mapping."""
    assert only(member(params=[], id=1)).call == Call("echo", ())
    assert only(member(params={}, id=1)).call == Call("echo", (), {})


@pytest.mark.parametrize("params", ["x", 3, 1.5, True, None], ids=repr)
def test_params_must_be_structured(params: Any) -> None:
    """Params that are not an Array or Object (section 4.2), null included, are Invalid Request."""
    assert only(member(params=params, id=1)) == Request(1, error=fault(INVALID_REQUEST))


def test_values_keep_their_json_types() -> None:
    """Integers stay int, numbers with a fraction or exponent become float, and bool stays bool."""
    body = b'{"jsonrpc":"2.0","method":"m","params":[1, 1.0, 1e2, -0, true, false, null, "1"],"id":1}'
    (request,) = decode_message(body, LIMITS).requests
    assert request.call is not None
    assert [(type(value), value) for value in request.call.params] == [
        (int, 1),
        (float, 1.0),
        (float, 100.0),
        (int, 0),
        (bool, True),
        (bool, False),
        (type(None), None),
        (str, "1"),
    ]


# top level ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"1", b'"x"', b"null", b"true", b"2.5"])
def test_top_level_scalar_is_invalid_request(body: bytes) -> None:
    """A JSON text that is neither object nor array is not a Request object: Invalid Request."""
    with pytest.raises(Fault) as caught:
        decode_message(body, LIMITS)
    assert caught.value == fault(INVALID_REQUEST)


def test_empty_batch_is_invalid_request() -> None:
    """An empty array is refused as a whole (section 6), not answered with an empty array."""
    with pytest.raises(Fault) as caught:
        decode_message(b"[]", LIMITS)
    assert caught.value == fault(INVALID_REQUEST)


@pytest.mark.parametrize("body", [b"", b"   ", b"{", b'{"a":1} {}', b"{'a': 1}", b"[1,]"])
def test_malformed_json_is_parse_error(body: bytes) -> None:
    """Bytes that are not one JSON text raise Parse error."""
    with pytest.raises(Fault) as caught:
        decode_message(body, LIMITS)
    assert caught.value == fault(PARSE_ERROR)


def test_batch_members_are_decoded_in_order() -> None:
    """A batch keeps member order, and an invalid member does not spoil the others."""
    message = decode([member(id=1), 5, member(method="other")])
    assert message.batch
    assert message.requests == (
        Request(1, Call("echo")),
        Request(None, error=fault(INVALID_REQUEST)),
        Request(ABSENT, Call("other")),
    )


def test_batch_of_one_is_still_a_batch() -> None:
    """`[request]` is a batch, answered with an array of one."""
    message = decode([member(id=1)])
    assert message.batch
    assert answer(json.dumps([{"jsonrpc": "2.0", "method": "get_data", "id": 1}])) == [
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": 1}
    ]


def test_nested_batch_member_is_invalid() -> None:
    """An array inside a batch is not a Request object."""
    assert decode([[member(id=1)]]).requests == (Request(None, error=fault(INVALID_REQUEST)),)


def test_leading_byte_order_mark_is_ignored() -> None:
    """A UTF-8 BOM before the JSON text is ignored, as RFC 8259 section 8.1 allows."""
    message = decode_message(b"\xef\xbb\xbf" + json.dumps(member(id=1)).encode(), LIMITS)
    assert message.requests == (Request(1, Call("echo")),)


def test_surrounding_json_whitespace_is_allowed() -> None:
    """Whitespace around the value is part of JSON (RFC 8259 section 2)."""
    body = b" \t\r\n" + json.dumps(member(id=1)).encode() + b"\n"
    assert decode_message(body, LIMITS).requests == (Request(1, Call("echo")),)
