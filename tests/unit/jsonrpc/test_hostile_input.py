"""Hostile request bodies: deep nesting, size, encodings, non-JSON numbers, long batches."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from bridge.calls import Call
from bridge.errors import Fault
from bridge.faults import PARSE_ERROR, REQUEST_TOO_LARGE, VALUE_NOT_REPRESENTABLE
from bridge.protocols import jsonrpc
from bridge.protocols.jsonrpc import Request, decode_message
from bridge.settings import Limits

LIMITS = Limits()


def refused(body: bytes, limits: Limits = LIMITS) -> Fault:
    with pytest.raises(Fault) as caught:
        decode_message(body, limits)
    return caught.value


def nested(depth: int) -> bytes:
    """A request whose params nest `depth` levels in all (the request object counts as one)."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"jsonrpc":"2.0","method":"m","params":[{inner}],"id":1}}'.encode()


class _ParserMustNotRun:
    def raw_decode(self, text: str) -> Any:
        raise AssertionError("the parser was reached")


# nesting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_ten_thousand_deep_is_refused_before_parsing(opener: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """10 000 levels of arrays or objects raise Request too large before the parser is reached."""
    closer = "]" if opener == "[" else "}"
    monkeypatch.setattr(jsonrpc, "_DECODER", _ParserMustNotRun())
    failure = refused((opener * 10_000 + "1" + closer * 10_000).encode())
    assert failure.code == REQUEST_TOO_LARGE
    assert failure.message == "Request too large"


def test_unclosed_deep_nesting_is_refused() -> None:
    """Deep brackets that never close are refused for depth, with no RecursionError."""
    assert refused(b"[" * 100_000).code == REQUEST_TOO_LARGE


def test_depth_at_the_limit_is_accepted() -> None:
    """Nesting exactly max_depth levels deep decodes; one more level is refused."""
    limits = Limits(max_depth=10)
    (request,) = decode_message(nested(10), limits).requests
    assert request.error is None
    assert refused(nested(11), limits).code == REQUEST_TOO_LARGE


def test_brackets_inside_strings_do_not_count() -> None:
    """Brackets and escaped quotes inside strings are text, not nesting."""
    text = '\\"' + "[{" * 5_000
    body = json.dumps({"jsonrpc": "2.0", "method": "m", "params": [text, "]}" * 5_000], "id": 1}).encode()
    (request,) = decode_message(body, LIMITS).requests
    assert request.call == Call("m", (text, "]}" * 5_000))


def test_recursion_error_never_escapes_a_huge_depth_limit() -> None:
    """Even with a depth limit above what the parser can recurse, deep input is a fault."""
    depth = sys.getrecursionlimit() * 20
    failure = refused(b"[" * depth + b"]" * depth, Limits(max_depth=depth * 2))
    assert failure.code == REQUEST_TOO_LARGE


# size and batch length ---------------------------------------------------------------------------


def test_body_over_limit_is_refused_and_at_limit_accepted() -> None:
    """A body one byte over max_body_bytes is refused; one exactly at it decodes."""
    body = b'{"jsonrpc":"2.0","method":"m","id":1}'
    assert decode_message(body, Limits(max_body_bytes=len(body))).requests == (Request(1, Call("m")),)
    failure = refused(body + b" ", Limits(max_body_bytes=len(body)))
    assert failure.code == REQUEST_TOO_LARGE
    assert failure.data == f"body of {len(body) + 1} bytes is over the limit of {len(body)} bytes"


def test_batch_over_max_batch_is_refused_and_at_it_accepted() -> None:
    """A batch of max_batch members decodes; one more member is refused as a whole."""
    member = {"jsonrpc": "2.0", "method": "m"}
    assert len(decode_message(json.dumps([member] * 5).encode(), Limits(max_batch=5)).requests) == 5
    failure = refused(json.dumps([member] * 6).encode(), Limits(max_batch=5))
    assert failure.code == REQUEST_TOO_LARGE


# encodings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc":"2.0","method":"\xff","id":1}',
        b'{"jsonrpc":"2.0","method":"\xc0\xaf","id":1}',
        b'{"jsonrpc":"2.0","method":"\xed\xa0\x80","id":1}',
        b'{"jsonrpc":"2.0","method":"\xe2\x82","id":1}',
        '{"jsonrpc":"2.0","method":"m","id":1}'.encode("utf-16"),
        b'{"jsonrpc":"2.0","method":"m","id":1}\xa0',
    ],
    ids=["ff", "overlong", "encoded-surrogate", "truncated", "utf-16", "trailing-latin1"],
)
def test_invalid_utf8_is_parse_error(body: bytes) -> None:
    """Bytes that are not UTF-8 raise Parse error (RFC 8259 section 8.1: JSON text is UTF-8)."""
    assert refused(body).code == PARSE_ERROR


def test_control_character_in_string_is_parse_error() -> None:
    """A raw control character inside a string is not JSON (RFC 8259 section 7)."""
    assert refused(b'{"jsonrpc":"2.0","method":"a\x01b","id":1}').code == PARSE_ERROR


def test_escaped_lone_surrogate_is_accepted() -> None:
    """A \\ud800 escape is valid JSON text and decodes to that code point."""
    (request,) = decode_message(
        b'{"jsonrpc":"2.0","method":"m","params":["\\ud800"],"id":1}', LIMITS
    ).requests
    assert request.call == Call("m", ("\ud800",))


# numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_parse_errors(literal: str) -> None:
    """NaN and Infinity are not JSON (RFC 8259 section 6), though Python's parser accepts them."""
    body = f'{{"jsonrpc":"2.0","method":"m","params":[{literal}],"id":1}}'.encode()
    assert refused(body).code == PARSE_ERROR


def test_huge_numbers_are_fine() -> None:
    """Integers of thousands of digits decode exactly; tiny and huge finite floats decode."""
    big = 7**4000
    body = f'{{"jsonrpc":"2.0","method":"m","params":[{big},-{big},1e308,1e-320],"id":1}}'.encode()
    (request,) = decode_message(body, LIMITS).requests
    assert request.call == Call("m", (big, -big, 1e308, 1e-320))


def test_number_beyond_double_range_is_refused() -> None:
    """A number that would overflow to infinity is refused, never read as inf."""
    failure = refused(b'{"jsonrpc":"2.0","method":"m","params":[1e400],"id":1}')
    assert failure.code == VALUE_NOT_REPRESENTABLE
    assert "1e400" in str(failure.data)


def test_integer_beyond_conversion_limit_is_refused() -> None:
    """An integer longer than Python converts (a quadratic-time guard) is Request too large."""
    digits = sys.get_int_max_str_digits() + 1
    failure = refused(b'{"jsonrpc":"2.0","method":"m","params":[' + b"9" * digits + b'],"id":1}')
    assert failure.code == REQUEST_TOO_LARGE


def test_many_invalid_members_are_each_answered() -> None:
    """A full batch of junk members is decoded into one error per member, not an exception."""
    message = decode_message(json.dumps([1, "x", None, [], {}] * 20).encode(), LIMITS)
    assert len(message.requests) == 100
    assert all(request.error is not None and request.id is None for request in message.requests)
