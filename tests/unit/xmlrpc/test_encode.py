"""Encoding rules beyond the golden files: what is not representable, and how it is reported."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import uuid
import xmlrpc.client
from typing import Any

import pytest

from bridge.calls import Success
from bridge.errors import Fault
from bridge.faults import VALUE_NOT_REPRESENTABLE
from bridge.protocols.xmlrpc import decode_outcome, encode_call, encode_outcome
from tests.neutral_values import same
from tests.unit.xmlrpc.values import NOT_XML_CHARS, ROOMY


def fault_for(value: Any) -> Fault:
    """The fault a client reads when the result is `value` (fails the test if it encodes)."""
    outcome = decode_outcome(encode_outcome(Success(value)), ROOMY)
    assert isinstance(outcome, Fault), outcome
    return outcome


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1 << 63, "int of 64 bits"),
        (-(1 << 63) - 1, "int of 64 bits"),
        (decimal.Decimal("1.10"), "Decimal has no XML-RPC type"),
        (datetime.UTC, "timezone has no XML-RPC type"),
        (range(2), "range has no XML-RPC type"),
        (bytearray(b"x"), "bytearray has no XML-RPC type"),
        (object(), "object has no XML-RPC type"),
        ({1: "a"}, "struct member names must be str, not int"),
        ("a\x00b", "U+0000"),
        ("\ud800", "U+D800"),
        ("\uffff", "U+FFFF"),
        (
            datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(seconds=30))),
            "not whole minutes",
        ),
    ],
)
def test_unrepresentable_values_become_a_clear_fault(value: Any, reason: str) -> None:
    """A value XML-RPC cannot express becomes a -32007 fault saying what it was, never a changed value."""
    error = fault_for(value)
    assert error.code == VALUE_NOT_REPRESENTABLE
    assert error.message.startswith("Value not representable: ")
    assert reason in error.message


@pytest.mark.parametrize("char", NOT_XML_CHARS)
def test_every_character_xml_cannot_carry_is_refused(char: str) -> None:
    """Each C0 control other than tab, LF and CR (and U+FFFE, U+FFFF) makes a str unrepresentable."""
    assert fault_for(f"ok{char}").code == VALUE_NOT_REPRESENTABLE


def test_fault_says_where_the_value_is() -> None:
    """The fault names the path to the offending value inside the result."""
    error = fault_for({"rows": [{"id": 1}, {"id": 2, "price": decimal.Decimal(3)}]})
    assert error.message.endswith("(at result['rows'][1]['price'])")


def test_unrepresentable_key_is_refused() -> None:
    """A struct member name with a character XML cannot carry is refused, not mangled."""
    assert fault_for({"a\x01": 1}).code == VALUE_NOT_REPRESENTABLE


def test_self_containing_value_is_refused() -> None:
    """A list that contains itself becomes a fault, not a RecursionError."""
    loop: list[Any] = []
    loop.append(loop)
    assert fault_for(loop).code == VALUE_NOT_REPRESENTABLE


def test_subclasses_encode_as_their_base_type() -> None:
    """IntEnum, str and float subclasses and OrderedDict encode as the plain type they extend."""

    class Colour(enum.IntEnum):
        RED = 1

    class Label(str):
        pass

    class Metres(float):
        def __repr__(self) -> str:
            return "Metres(...)"

    value = collections.OrderedDict(colour=Colour.RED, label=Label("x"), length=Metres(2.5))
    assert decode_outcome(encode_outcome(Success(value)), ROOMY) == Success(
        {"colour": 1, "label": "x", "length": 2.5}
    )


def test_tuple_encodes_as_array() -> None:
    """A tuple encodes as an array (and so decodes as a list)."""
    assert decode_outcome(encode_outcome(Success((1, (2,)))), ROOMY) == Success([1, [2]])


def test_markup_and_carriage_returns_are_escaped() -> None:
    """&, <, > and \\r are written as references, so the text parses back exactly."""
    body = encode_outcome(Success("<a href='x'>&\r</a>"))
    assert b"<string>&lt;a href='x'&gt;&amp;&#13;&lt;/a&gt;</string>" in body


def test_fault_string_joins_str_data_and_replaces_unsendable_characters() -> None:
    """faultString is message + ': ' + str data; characters XML cannot carry become U+FFFD."""
    assert decode_outcome(encode_outcome(Fault(7, "bad\x00", "why\x01")), ROOMY) == Fault(
        7, "bad\ufffd: why\ufffd"
    )


def test_fault_code_beyond_64_bits_becomes_not_representable() -> None:
    """A fault code XML-RPC cannot carry is reported as -32007 rather than dropped."""
    outcome = decode_outcome(encode_outcome(Fault(1 << 70, "huge")), ROOMY)
    assert isinstance(outcome, Fault)
    assert outcome.code == VALUE_NOT_REPRESENTABLE


def test_fault_code_beyond_32_bits_is_sent_as_i8() -> None:
    """A fault code past 32 bits goes out as <i8>, which xmlrpc.client reads."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(encode_outcome(Fault(1 << 40, "big")))
    assert caught.value.faultCode == 1 << 40


def test_encode_call_refuses_unrepresentable_params() -> None:
    """encode_call raises a -32007 fault naming the param instead of sending a changed value."""
    with pytest.raises(Fault) as caught:
        encode_call("m", [1, decimal.Decimal(2)])
    assert caught.value.code == VALUE_NOT_REPRESENTABLE
    assert "params[1]" in str(caught.value.data)


@pytest.mark.parametrize("name", ["", "  ", "bad\x00name"])
def test_encode_call_refuses_bad_method_names(name: str) -> None:
    """encode_call refuses an empty method name or one XML cannot carry."""
    with pytest.raises(Fault) as caught:
        encode_call(name, [])
    assert caught.value.code == VALUE_NOT_REPRESENTABLE


def test_encode_call_escapes_method_name() -> None:
    """A method name with markup characters is escaped, not injected."""
    assert b"<methodName>a&lt;b&gt;&amp;c</methodName>" in encode_call("a<b>&c", [])


def test_output_is_utf8_with_declaration() -> None:
    """Bodies are UTF-8 with an XML declaration and non-ASCII text written as is."""
    body = encode_outcome(Success("\u00e9\U0001f600"))
    assert body.startswith(b'<?xml version="1.0"?>\n<methodResponse>')
    assert "\u00e9\U0001f600".encode() in body


@pytest.mark.parametrize(
    ("value", "nearest"),
    [
        ((1, (2,)), [1, [2]]),
        ({7}, [7]),
        (frozenset({"a"}), ["a"]),
        (datetime.date(2026, 1, 2), datetime.datetime(2026, 1, 2)),
        (datetime.time(8, 30, 0, 5), "08:30:00.000005"),
        (datetime.time(8, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))), "08:30:00-05:00"),
        (datetime.timedelta(days=1, microseconds=500_000), 86400.5),
        (uuid.UUID(int=255), "00000000-0000-0000-0000-0000000000ff"),
        (1.5 - 2j, [1.5, -2.0]),
        ({"when": [datetime.date(2026, 1, 2)]}, {"when": [datetime.datetime(2026, 1, 2)]}),
    ],
    ids=["tuple", "set", "frozenset", "date", "time", "aware time", "timedelta", "UUID", "complex", "nested"],
)
def test_python_types_encode_as_their_nearest_xmlrpc_type(value: Any, nearest: Any) -> None:
    """Python's own types reach an XML-RPC client as the documented nearest type, read back as such."""
    outcome = decode_outcome(encode_outcome(Success(value)), ROOMY)
    assert isinstance(outcome, Success)
    assert same(outcome.value, nearest)
    # The standard library's client reads the same document (dateTime as its DateTime object).
    loaded = xmlrpc.client.loads(encode_outcome(Success(value)), use_builtin_types=True)[0][0]
    assert loaded == nearest
