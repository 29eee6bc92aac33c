"""Reply encoding: section 5 shapes, notifications, batches and values JSON cannot express."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import pytest

from bridge.calls import ABSENT, Call, Success
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE, VALUE_NOT_REPRESENTABLE, fault
from bridge.protocols.jsonrpc import Message, Request, encode_error, encode_replies


def single(request_id: Any = 1) -> Message:
    return Message((Request(request_id, Call("m")),), batch=False)


def reply_to(value: Any, request_id: Any = 1) -> bytes:
    reply = encode_replies(single(request_id), [Success(value)])
    assert reply is not None
    return reply


def not_representable(reply: bytes) -> str:
    """The detail of a VALUE_NOT_REPRESENTABLE reply, after checking its shape."""
    document = json.loads(reply)
    assert list(document) == ["jsonrpc", "error", "id"]
    assert document["error"]["code"] == VALUE_NOT_REPRESENTABLE == -32007
    assert document["error"]["message"] == "Value not representable"
    detail = document["error"]["data"]
    assert isinstance(detail, str)
    return detail


# shapes ------------------------------------------------------------------------------------------


def test_success_reply_is_compact_and_ordered() -> None:
    """A success reply is exactly {"jsonrpc","result","id"}, in that order, with no spaces."""
    assert reply_to([1, "a"]) == b'{"jsonrpc":"2.0","result":[1,"a"],"id":1}'


def test_error_reply_is_compact_and_ordered() -> None:
    """An error reply is {"jsonrpc","error":{"code","message"},"id"}, in that order."""
    reply = encode_replies(single("x"), [Fault(4, "no such user")])
    assert reply == b'{"jsonrpc":"2.0","error":{"code":4,"message":"no such user"},"id":"x"}'


@pytest.mark.parametrize("data", [0, "", [], {}, False, "detail", {"k": [1, 2]}], ids=repr)
def test_error_data_present_whenever_set(data: Any) -> None:
    """ "data" is sent whenever the fault has data other than None, falsy values included."""
    reply = encode_replies(single(), [Fault(4, "m", data)])
    assert reply is not None
    document = json.loads(reply)
    assert list(document["error"]) == ["code", "message", "data"]
    assert document["error"]["data"] == data


def test_error_data_left_out_when_none() -> None:
    """A fault without data has no "data" member at all (section 5.1: it "may be omitted")."""
    reply = encode_replies(single(), [Fault(4, "m")])
    assert reply is not None
    assert "data" not in json.loads(reply)["error"]


def test_null_result_is_sent() -> None:
    """A None result is sent as "result": null; section 5 requires the member on success."""
    assert reply_to(None) == b'{"jsonrpc":"2.0","result":null,"id":1}'


def test_invalid_member_uses_its_error_not_the_outcome() -> None:
    """A member that carries an error is answered with it; its outcome slot is None."""
    message = Message((Request(None, error=fault(INVALID_REQUEST)),), batch=False)
    assert encode_replies(message, [None]) == (
        b'{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}'
    )


# notifications and batches -----------------------------------------------------------------------


def test_notification_gets_no_reply_even_on_error() -> None:
    """Section 4.1: "The Server MUST NOT reply to a Notification", faults included."""
    message = Message((Request(ABSENT, Call("m")),), batch=False)
    assert encode_replies(message, [Success(1)]) is None
    assert encode_replies(message, [Fault(1, "boom")]) is None


def test_batch_of_notifications_gets_nothing() -> None:
    """Section 6: no empty array; when no member gets a reply, nothing is returned."""
    message = Message((Request(ABSENT, Call("a")), Request(ABSENT, Call("b"))), batch=True)
    assert encode_replies(message, [Success(1), Fault(2, "x")]) is None


def test_batch_replies_follow_members_without_notifications() -> None:
    """A batch is answered with an array of replies in member order, notifications left out."""
    message = Message(
        (
            Request(1, Call("a")),
            Request(ABSENT, Call("b")),
            Request(None, error=fault(INVALID_REQUEST)),
            Request("z", Call("c")),
        ),
        batch=True,
    )
    reply = encode_replies(message, [Success(True), Success(2), None, Fault(7, "seven")])
    assert reply is not None
    assert json.loads(reply) == [
        {"jsonrpc": "2.0", "result": True, "id": 1},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
        {"jsonrpc": "2.0", "error": {"code": 7, "message": "seven"}, "id": "z"},
    ]


def test_outcome_count_must_match() -> None:
    """Outcomes that do not line up with the requests are a programming error, not a reply."""
    with pytest.raises(ValueError, match="outcomes"):
        encode_replies(single(), [])


def test_missing_outcome_for_a_call_is_refused() -> None:
    """A valid call answered with None is a programming error, not a silent null result."""
    with pytest.raises(ValueError, match="no outcome"):
        encode_replies(single(), [None])


def test_encode_error_has_null_id() -> None:
    """encode_error answers a request that failed as a whole with id null (section 5, id)."""
    assert encode_error(fault(PARSE_ERROR)) == (
        b'{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'
    )
    reply = json.loads(encode_error(fault(REQUEST_TOO_LARGE, data="body too big")))
    assert reply == {
        "jsonrpc": "2.0",
        "error": {"code": -32006, "message": "Request too large", "data": "body too big"},
        "id": None,
    }


# values ------------------------------------------------------------------------------------------


def test_bool_stays_bool() -> None:
    """True and False are written as true and false, never as 1 and 0."""
    assert reply_to([True, False, 1, 0]) == b'{"jsonrpc":"2.0","result":[true,false,1,0],"id":1}'


def test_big_int_is_written_exactly() -> None:
    """An int of any size (within Python's text conversion limit) is written digit for digit."""
    value = -(3**500)
    assert reply_to(value) == b'{"jsonrpc":"2.0","result":' + str(value).encode() + b',"id":1}'


@pytest.mark.parametrize("value", [0.1, -0.0, 1e300, 5e-324, 1.0, 2.5e-7], ids=repr)
def test_float_is_repr_exact(value: float) -> None:
    """A finite float is written as Python's shortest repr, digit for digit."""
    reply = reply_to(value)
    assert reply == b'{"jsonrpc":"2.0","result":' + repr(value).encode() + b',"id":1}'


def test_non_ascii_text_is_utf8() -> None:
    """Text outside ASCII is written as UTF-8, not escaped."""
    assert reply_to("héllo ✓") == '{"jsonrpc":"2.0","result":"héllo ✓","id":1}'.encode()


def test_lone_surrogate_is_escaped_and_kept() -> None:
    """A lone surrogate (no UTF-8 form) is written as a \\u escape: valid UTF-8, same value."""
    reply = reply_to(["\ud800", "é"])
    reply.decode("utf-8")
    assert json.loads(reply)["result"] == ["\ud800", "é"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (decimal.Decimal("1.10"), b"1.10"),
        (decimal.Decimal("-0"), b"-0"),
        (decimal.Decimal("1E+2"), b"1E+2"),
        (
            decimal.Decimal("123456789012345678901234567890.000000001"),
            b"123456789012345678901234567890.000000001",
        ),
        (decimal.Decimal("5"), b"5"),
    ],
    ids=str,
)
def test_decimal_is_written_as_its_exact_text(value: decimal.Decimal, text: bytes) -> None:
    """A finite Decimal is written as the JSON number `str(Decimal)`, digit for digit."""
    assert reply_to({"d": [value]}) == b'{"jsonrpc":"2.0","result":{"d":[' + text + b']},"id":1}'


def test_decimal_in_a_batch_keeps_the_other_replies() -> None:
    """A Decimal in one reply of a batch does not change how the others are written."""
    message = Message((Request(1, Call("a")), Request(2, Call("b"))), batch=True)
    reply = encode_replies(message, [Success(decimal.Decimal("0.30")), Success(["é", 0.1, None])])
    expected = '[{"jsonrpc":"2.0","result":0.30,"id":1},{"jsonrpc":"2.0","result":["é",0.1,null],"id":2}]'
    assert reply == expected.encode()


@pytest.mark.parametrize(
    ("value", "place", "what"),
    [
        (float("nan"), "result", "nan"),
        (float("inf"), "result", "inf"),
        ([1, float("-inf")], "result[1]", "-inf"),
        (b"raw", "result", "bytes"),
        ({"when": datetime.datetime(2024, 1, 2, 3, 4, 5)}, 'result["when"]', "datetime"),
        ([decimal.Decimal("NaN")], "result[0]", "NaN"),
        (decimal.Decimal("-Infinity"), "result", "Infinity"),
        ({"a": [{"b": complex(1, float("inf"))}]}, 'result["a"][0]["b"]', "complex (1+infj)"),
        ({1: "one"}, "result", "key of type int"),
        (bytearray(b"x"), "result", "bytes"),
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "bytes",
        "datetime",
        "decimal-nan",
        "decimal-inf",
        "complex-inf",
        "int-key",
        "bytearray",
    ],
)
def test_unrepresentable_result_becomes_error(value: Any, place: str, what: str) -> None:
    """A result JSON cannot express becomes error -32007 naming where and what, never a changed value."""
    detail = not_representable(reply_to(value, request_id="r"))
    assert detail.startswith(f"{place} is ")
    assert what in detail


@pytest.mark.parametrize("value", ["a\ud800\udc00", {"\udbff\udfff": 1}], ids=["value", "key"])
def test_surrogate_pair_string_is_unrepresentable(value: Any) -> None:
    """Two surrogate code points in a row are refused: JSON would read them back as one character."""
    assert "surrogate pair" in not_representable(reply_to(value))


def test_unrepresentable_reply_keeps_the_id() -> None:
    """The -32007 error reply goes to the same id as the result would have."""
    assert json.loads(reply_to(b"x", request_id=42))["id"] == 42


def test_int_beyond_text_limit_is_unrepresentable() -> None:
    """An int too long for Python to write as text (sys.get_int_max_str_digits) becomes -32007."""
    assert "int too long" in not_representable(reply_to([10**5000]))


def test_cyclic_result_is_unrepresentable() -> None:
    """A list that contains itself becomes -32007 rather than a crash."""
    cycle: list[Any] = []
    cycle.append(cycle)
    assert "nested too deeply" in not_representable(reply_to(cycle))


def test_unrepresentable_error_data_names_the_fault() -> None:
    """Fault data JSON cannot express turns the reply into -32007, naming the original fault."""
    reply = encode_replies(single(), [Fault(12, "quota", {"raw": b"\x00"})])
    assert reply is not None
    detail = not_representable(reply)
    assert "fault 12 (quota)" in detail
    assert 'error data["raw"] is bytes' in detail


def test_one_unrepresentable_member_spares_the_batch() -> None:
    """In a batch only the member with the unrepresentable result becomes an error."""
    message = Message((Request(1, Call("a")), Request(2, Call("b"))), batch=True)
    reply = encode_replies(message, [Success(b"x"), Success("fine")])
    assert reply is not None
    first, second = json.loads(reply)
    assert first["error"]["code"] == VALUE_NOT_REPRESENTABLE
    assert second == {"jsonrpc": "2.0", "result": "fine", "id": 2}


def test_tuple_is_written_as_array() -> None:
    """A tuple result is written as a JSON array."""
    assert reply_to((1, (2,))) == b'{"jsonrpc":"2.0","result":[1,[2]],"id":1}'


@pytest.mark.parametrize(
    ("value", "nearest"),
    [
        ((1, (2,)), "[1,[2]]"),
        ({7}, "[7]"),
        (frozenset({"a"}), '["a"]'),
        (datetime.date(2026, 1, 2), '"2026-01-02"'),
        (datetime.time(8, 30, 0, 5), '"08:30:00.000005"'),
        (datetime.time(8, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))), '"08:30:00-05:00"'),
        (datetime.timedelta(days=1, microseconds=500_000), "86400.5"),
        (uuid.UUID(int=255), '"00000000-0000-0000-0000-0000000000ff"'),
        (1.5 - 2j, "[1.5,-2.0]"),
        ({"at": {datetime.date(2026, 1, 2)}, "n": decimal.Decimal("1.50")}, '{"at":["2026-01-02"],"n":1.50}'),
    ],
    ids=[
        "tuple",
        "set",
        "frozenset",
        "date",
        "time",
        "aware time",
        "timedelta",
        "UUID",
        "complex",
        "with Decimal",
    ],
)
def test_python_types_encode_as_their_nearest_json_type(value: Any, nearest: str) -> None:
    """Python's own types reach a JSON-RPC client as the documented nearest type, Decimals or not."""
    assert reply_to(value) == b'{"jsonrpc":"2.0","result":' + nearest.encode() + b',"id":1}'
