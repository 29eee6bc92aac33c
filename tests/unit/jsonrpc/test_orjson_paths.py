"""orjson on the hot path changes nothing: every body reads, and every value writes, as the exact path does.

The exact path (the standard library's `json`, `jsonrpc._parse_exact` and the stdlib encoders)
defines the codec's results; these properties compare the fast path with it, value for value and
byte for byte.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.errors import Fault
from bridge.protocols import jsonrpc
from bridge.settings import Limits

LIMITS = Limits()
EXACT_WRITER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False
)

# Numbers at the edges: 64-bit limits, beyond them, tiny and huge floats, negative zero.
EDGE_INTS = st.sampled_from(
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**18, 10**19, 3**200]
)
NUMBERS = st.one_of(st.integers(), EDGE_INTS, st.floats(allow_nan=False, allow_infinity=False))
TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # lone surrogates: see the body test
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return math.copysign(1.0, a) == math.copysign(1.0, b) and a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _read(body: bytes, parse: Any) -> Any:
    """The document `parse` reads from `body`, or the fault it raises, as a comparable value."""
    try:
        return ("ok", parse(body))
    except Fault as failure:
        return ("fault", failure.code, failure.message, failure.data)


@settings(max_examples=400)
@given(VALUES)
@example(2**64)
@example(-(2**63) - 1)
@example(1e-05)
@example({"a": [10**30, 1.5e-7, -0.0]})
def test_writing_matches_the_exact_writer_byte_for_byte(value: Any) -> None:
    """Whatever the fast path writes is what the standard library writes."""
    exact_only = jsonrpc._check(value, "result")
    assert jsonrpc._serialize(value, exact_only) == EXACT_WRITER.encode(value).encode()


@settings(max_examples=400)
@given(VALUES)
def test_reading_matches_the_exact_reader(value: Any) -> None:
    """A body written by the standard library reads to the same value on both paths."""
    body = EXACT_WRITER.encode(value).encode()
    fast, exact = _read(body, lambda b: jsonrpc._parse(b, LIMITS)), _read(body, jsonrpc._parse_exact)
    assert fast[0] == exact[0] == "ok"
    assert _same(fast[1], exact[1])


NUMBER_TEXT = st.from_regex(r"\A-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?\Z")


@settings(max_examples=600)
@given(NUMBER_TEXT)
@example("18446744073709551616")
@example("1e400")
@example("-0")
@example("123456789012345678.5")
def test_every_number_reads_as_the_exact_path_reads_it(text: str) -> None:
    """Numbers of any length and exponent: the same value, or the same fault (1e400)."""
    body = f"[{text}]".encode()
    fast, exact = _read(body, lambda b: jsonrpc._parse(b, LIMITS)), _read(body, jsonrpc._parse_exact)
    assert fast[0] == exact[0]
    assert _same(fast[1], exact[1]) if fast[0] == "ok" else fast == exact


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b"[Infinity]",
        b"-Infinity",
        b'"\\ud800"',
        b'["\\udc00x", "\\ud83d\\ude00"]',
        b'{"a": 1, "b": 2, "a": 3}',
        b'"\x01"',
        b"[1]x",
        b'"\xed\xa0\x80"',
        b"\xff",
        b"",
        b" \t\n\r[1] \n",
        b"\x0c1",
        b"[01]",
        b"1e-400",
        b"-1e400",
    ],
)
def test_edge_bodies_read_as_the_exact_path_reads_them(body: bytes) -> None:
    """Non-JSON constants, lone surrogates, duplicate keys, bad UTF-8: the same result or fault."""
    fast, exact = _read(body, lambda b: jsonrpc._parse(b, LIMITS)), _read(body, jsonrpc._parse_exact)
    assert fast[0] == exact[0]
    assert _same(fast[1], exact[1]) if fast[0] == "ok" else fast == exact


@pytest.mark.parametrize("value", ["\ud800", ["x\udfff"], {"k": "\udbff"}, 1.5e-300, [[[[1e-5]]]]])
def test_values_orjson_writes_apart_take_the_exact_path(value: Any) -> None:
    """Lone surrogates (written with ASCII escapes) and tiny floats: the exact path's bytes."""
    exact_only = jsonrpc._check(value, "result")
    written = jsonrpc._serialize(value, exact_only)
    try:
        expected = EXACT_WRITER.encode(value).encode()
    except UnicodeEncodeError:
        expected = json.dumps(value, separators=(",", ":")).encode("ascii")
    assert written == expected
