"""Decoding rules beyond the golden files: types, whitespace, encodings, faults and their messages."""

from __future__ import annotations

import datetime
import math

import pytest

from bridge.calls import Success
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE
from bridge.protocols.xmlrpc import decode_call, decode_outcome
from bridge.settings import Limits
from tests.unit.xmlrpc.values import call_with

LIMITS = Limits()


def one_param(value_xml: str) -> object:
    """The single param decoded from a methodCall whose <value> holds `value_xml`."""
    (param,) = decode_call(call_with(value_xml), LIMITS).params
    return param


@pytest.mark.parametrize(
    ("value_xml", "expected"),
    [
        ("<i4> 7 </i4>", 7),
        ("<int>-0</int>", 0),
        ("<int>007</int>", 7),
        ("<boolean> 1 </boolean>", True),
        ("<double>-1.5E3</double>", -1500.0),
        ("<double>Infinity</double>", float("inf")),
    ],
)
def test_numbers_accept_surrounding_whitespace_and_python_spellings(value_xml: str, expected: object) -> None:
    """Numeric types ignore surrounding whitespace and accept what float() and int() read in ASCII."""
    value = one_param(value_xml)
    assert value == expected
    assert type(value) is type(expected)


def test_double_accepts_nan_in_any_case() -> None:
    """<double>NaN</double> (as some writers spell it) decodes to a float NaN."""
    value = one_param("<double>NaN</double>")
    assert isinstance(value, float)
    assert math.isnan(value)


def test_boolean_is_a_bool_not_an_int() -> None:
    """<boolean> decodes to a real bool."""
    assert one_param("<boolean>0</boolean>") is False


def test_untyped_value_with_child_is_that_type() -> None:
    """A <value> whose only non-blank content is a type element is that type, not a string."""
    assert one_param("\n  <boolean>1</boolean>\n  ") is True


def test_untyped_value_keeps_whitespace_and_newlines() -> None:
    """Untyped text keeps leading, trailing and inner whitespace exactly."""
    assert one_param(" \t a\n b \n") == " \t a\n b \n"


def test_string_keeps_carriage_return_sent_as_reference() -> None:
    """A \\r sent as &#13; survives, while a raw CR LF is normalised to LF by XML itself."""
    assert one_param("<string>a&#13;\r\nb</string>") == "a\r\nb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240229T23:59:59", datetime.datetime(2024, 2, 29, 23, 59, 59)),
        ("2024-02-29T23:59:59", datetime.datetime(2024, 2, 29, 23, 59, 59)),
        ("20240229T235959", datetime.datetime(2024, 2, 29, 23, 59, 59)),
        ("20240229T23:59:59.5", datetime.datetime(2024, 2, 29, 23, 59, 59, 500000)),
        ("20240229T23:59:59,5", datetime.datetime(2024, 2, 29, 23, 59, 59, 500000)),
        ("20240229T23:59:59.9999999", datetime.datetime(2024, 2, 29, 23, 59, 59, 999999)),
        (" 20240229T23:59:59Z ", datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=datetime.UTC)),
        (
            "20240229T23:59:59+0100",
            datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
        ),
        (
            "20240229T23:59:59-23:59",
            datetime.datetime(
                2024, 2, 29, 23, 59, 59, tzinfo=datetime.timezone(-datetime.timedelta(hours=23, minutes=59))
            ),
        ),
    ],
)
def test_datetime_forms(text: str, expected: datetime.datetime) -> None:
    """dateTime.iso8601 accepts basic and extended forms, fractions, Z and numeric offsets."""
    value = one_param(f"<dateTime.iso8601>{text}</dateTime.iso8601>")
    assert isinstance(value, datetime.datetime)
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()


def test_apache_extension_prefix_is_accepted_for_nil_and_i8_only() -> None:
    """<ex:nil/> and <ex:i8> decode like <nil/> and <i8>; other prefixed types stay unknown."""
    assert one_param("<ex:nil/>") is None
    assert one_param("<ex:i8>-5</ex:i8>") == -5
    with pytest.raises(Fault) as caught:
        one_param("<ex:string>x</ex:string>")
    assert caught.value.code == INVALID_REQUEST


def test_comments_and_processing_instructions_are_ignored() -> None:
    """Comments and processing instructions inside a value do not change it."""
    assert one_param("<string>a<!-- note -->b<?pi data?>c</string>") == "abc"


def test_windows_1252_declared_encoding_is_honoured() -> None:
    """A body in a declared single-byte encoding other than Latin-1 decodes correctly."""
    body = (
        '<?xml version="1.0" encoding="windows-1252"?><methodCall><methodName>m</methodName>'
        "<params><param><value>\u20ac5</value></param></params></methodCall>"
    ).encode("cp1252")
    assert decode_call(body, LIMITS).params == ("\u20ac5",)


def test_utf16_with_bom_decodes() -> None:
    """A UTF-16 body with a byte-order mark decodes."""
    body = "<methodCall><methodName>m</methodName><params><param><value>\u00e9</value></param></params>"
    body += "</methodCall>"
    assert decode_call(body.encode("utf-16"), LIMITS).params == ("\u00e9",)


def test_method_name_surrounding_whitespace_is_dropped() -> None:
    """Whitespace around the method name (pretty-printed requests) is not part of the name."""
    body = b"<methodCall><methodName>\n  sample.add\n</methodName></methodCall>"
    assert decode_call(body, LIMITS).procedure == "sample.add"


def test_attributes_are_ignored() -> None:
    """Attributes on XML-RPC elements (namespaces, xml:lang) do not change the decoded call."""
    body = (
        b'<methodCall xml:lang="en"><methodName>m</methodName>'
        b'<params><param><value a="1">x</value></param></params></methodCall>'
    )
    assert decode_call(body, LIMITS).params == ("x",)


def test_fault_message_names_the_problem() -> None:
    """Invalid-request faults keep the standard message and carry a detail that names the element."""
    with pytest.raises(Fault) as caught:
        decode_call(call_with("<i4>2147483648</i4>"), LIMITS)
    assert caught.value.message == "Invalid Request"
    assert caught.value.data == "<i4> value 2147483648 is out of range"


def test_parse_error_detail_gives_position() -> None:
    """Parse errors carry expat's reason with line and column."""
    with pytest.raises(Fault) as caught:
        decode_call(b"<methodCall>\n<methodName>m</methodNam></methodCall>", LIMITS)
    assert caught.value.code == PARSE_ERROR
    assert "line 2" in str(caught.value.data)


def test_decode_outcome_success_and_fault() -> None:
    """decode_outcome returns Success for params and a Fault (not raised) for a fault response."""
    ok = b"<methodResponse><params><param><value><i8>5</i8></value></param></params></methodResponse>"
    assert decode_outcome(ok, LIMITS) == Success(5)
    fault_body = (
        b"<methodResponse><fault><value><struct><member><name>faultString</name><value>no</value></member>"
        b"<member><name>faultCode</name><value><int>3</int></value></member>"
        b"<member><name>extra</name><value>ignored</value></member></struct></value></fault></methodResponse>"
    )
    assert decode_outcome(fault_body, LIMITS) == Fault(3, "no")


def test_decode_outcome_honours_limits() -> None:
    """decode_outcome applies the body-size and depth limits too."""
    body = b"<methodResponse><params><param><value>x</value></param></params></methodResponse>"
    for limits in (Limits(max_body_bytes=10), Limits(max_depth=3)):
        with pytest.raises(Fault) as caught:
            decode_outcome(body, limits)
        assert caught.value.code == REQUEST_TOO_LARGE
