"""Hostile and malformed input: each is refused with the right fault code, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.calls import Call
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE
from bridge.protocols.xmlrpc import decode_call, decode_outcome
from bridge.settings import Limits
from tests.hostile_xml import BILLION_LAUGHS, EXTERNAL_DTD, EXTERNAL_ENTITY, PARAMETER_ENTITY
from tests.unit.xmlrpc.values import call_with

LIMITS = Limits()


def refused(body: bytes, limits: Limits = LIMITS) -> Fault:
    """The fault decode_call raises for `body` (fails the test if it returns instead)."""
    with pytest.raises(Fault) as caught:
        decode_call(body, limits)
    return caught.value


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY, b"<!DOCTYPE methodCall><methodCall/>"],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity", "bare-doctype"],
)
def test_dtds_and_entities_are_refused_unexpanded(body: bytes) -> None:
    """Any DTD is refused as Invalid Request before an entity is declared, expanded or fetched."""
    error = refused(body)
    assert error.code == INVALID_REQUEST
    assert "root:" not in str(error.data)  # nothing from /etc/passwd leaks into the fault


def test_dtd_is_refused_in_responses_too() -> None:
    """decode_outcome refuses DTDs just as decode_call does."""
    with pytest.raises(Fault) as caught:
        decode_outcome(BILLION_LAUGHS.replace(b"methodCall", b"methodResponse"), LIMITS)
    assert caught.value.code == INVALID_REQUEST


def test_ten_thousand_deep_nesting_is_refused() -> None:
    """10 000 nested arrays are refused as too large, without RecursionError."""
    body = call_with("<array><data><value>" * 10_000 + "x" + "</value></data></array>" * 10_000)
    assert refused(body).code == REQUEST_TOO_LARGE


def test_deep_unclosed_nesting_is_refused_before_the_end() -> None:
    """Depth is counted while parsing: a deep, truncated document is refused for depth, not syntax."""
    body = b"<methodCall><methodName>m</methodName><params><param>" + b"<value><array><data>" * 10_000
    assert refused(body).code == REQUEST_TOO_LARGE


def test_depth_limit_counts_elements() -> None:
    """A document exactly max_depth elements deep passes; one element deeper is refused."""
    body = call_with("<array><data><value><int>1</int></value></data></array>")  # 8 elements deep
    assert decode_call(body, Limits(max_depth=8)).params == ([1],)
    assert refused(body, Limits(max_depth=7)).code == REQUEST_TOO_LARGE


def test_oversized_body_is_refused() -> None:
    """A body over max_body_bytes is refused as too large; one exactly at the limit is decoded."""
    body = call_with("<string>" + "x" * 1000 + "</string>")
    assert decode_call(body, Limits(max_body_bytes=len(body))).params == ("x" * 1000,)
    assert refused(body, Limits(max_body_bytes=len(body) - 1)).code == REQUEST_TOO_LARGE


def test_oversized_body_is_refused_before_parsing() -> None:
    """The size check comes first: an oversized body that is not even XML still says too large."""
    assert refused(b"\xff" * 2000, Limits(max_body_bytes=1000)).code == REQUEST_TOO_LARGE


@pytest.mark.parametrize(
    "body",
    [
        call_with("<string>@</string>").replace(b"@", b"\xff\xfe"),
        b"<methodCall><methodName>\xc3\x28</methodName></methodCall>",
        b"<methodCall><methodName>\xed\xa0\x80</methodName></methodCall>",  # UTF-8 encoded surrogate
    ],
    ids=["bad-bytes", "bad-continuation", "encoded-surrogate"],
)
def test_invalid_utf8_is_a_parse_error(body: bytes) -> None:
    """Bytes that are not UTF-8 (with no other encoding declared) are a parse error."""
    assert refused(body).code == PARSE_ERROR


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"not xml at all",
        b"<methodCall><methodName>m</methodName>",
        b"<methodCall><methodName>m</methodCall>",
        b"<methodCall><methodName>m</methodName></methodCall><methodCall/>",
        b"<methodCall><methodName>&undefined;</methodName></methodCall>",
        call_with("<string>\x01</string>"),
        call_with("<string>&#0;</string>"),
        b'<?xml version="1.0" encoding="no-such-codec"?><methodCall/>',
        b'<?xml version="1.0" encoding="Shift_JIS"?><methodCall/>',
        b'<?xml version="1.0" encoding="UTF-16"?><methodCall/>',
    ],
    ids=[
        "empty",
        "blank",
        "text",
        "truncated",
        "mismatched-tags",
        "two-roots",
        "undefined-entity",
        "control-character",
        "nul-reference",
        "unknown-encoding",
        "multibyte-encoding",
        "lying-encoding",
    ],
)
def test_not_well_formed_is_a_parse_error(body: bytes) -> None:
    """XML that is not well-formed, or not decodable as declared, is a parse error."""
    assert refused(body).code == PARSE_ERROR


@pytest.mark.parametrize(
    "value_xml",
    [
        "<i4>2147483648</i4>",
        "<int>-2147483649</int>",
        "<i8>9223372036854775808</i8>",
        "<i8>-9223372036854775809</i8>",
        "<int>1_000</int>",
        "<int>1.0</int>",
        "<int></int>",
        "<int>\u0663</int>",  # ARABIC-INDIC DIGIT THREE: int() would take it, XML-RPC does not
        "<int>" + "9" * 5000 + "</int>",
    ],
)
def test_bad_integers_are_invalid(value_xml: str) -> None:
    """Integers out of their 32- or 64-bit range, or not plain ASCII digits, are an invalid request."""
    assert refused(call_with(value_xml)).code == INVALID_REQUEST


@pytest.mark.parametrize(
    "value_xml",
    [
        "<boolean>2</boolean>",
        "<boolean>true</boolean>",
        "<boolean></boolean>",
        "<base64>not base64!</base64>",
        "<base64>QUJ$</base64>",
        "<base64>=QQ=</base64>",
        "<base64>QQ</base64>",
        "<double>abc</double>",
        "<double>1_0</double>",
        "<double></double>",
        "<dateTime.iso8601>yesterday</dateTime.iso8601>",
        "<dateTime.iso8601>20201301T00:00:00</dateTime.iso8601>",
        "<dateTime.iso8601>20200101T25:00:00</dateTime.iso8601>",
        "<dateTime.iso8601>20200101T00:00:00+24:00</dateTime.iso8601>",
        "<dateTime.iso8601>20200101T00:00:00+01:60</dateTime.iso8601>",
        "<dateTime.iso8601>00000101T00:00:00</dateTime.iso8601>",
        "<nil>x</nil>",
        "<unknown>1</unknown>",
        "<ex:bigdecimal>1.5</ex:bigdecimal>",
        "<int>1</int><int>2</int>",
        "text<int>1</int>",
        "<int>1</int>text",
        "<int><i4>1</i4></int>",
        "<struct><member><value>1</value></member></struct>",
        "<struct><member><name>a</name></member></struct>",
        "<struct><member><value>1</value><name>a</name></member></struct>",
        "<struct><member><name>a</name><value>1</value><value>2</value></member></struct>",
        "<struct><value>1</value></struct>",
        "<struct>loose text</struct>",
        "<array></array>",
        "<array><data/><data/></array>",
        "<array><data><int>1</int></data></array>",
    ],
)
def test_invalid_values_are_invalid_requests(value_xml: str) -> None:
    """Values that are well-formed XML but not valid XML-RPC are an invalid request."""
    assert refused(call_with(value_xml)).code == INVALID_REQUEST


@pytest.mark.parametrize(
    "body",
    [
        b"<methodResponse><params/></methodResponse>",
        b"<methodCall/>",
        b"<methodCall><params/></methodCall>",
        b"<methodCall><params/><methodName>m</methodName></methodCall>",
        b"<methodCall><methodName>m</methodName><methodName>n</methodName></methodCall>",
        b"<methodCall><methodName>  </methodName></methodCall>",
        b"<methodCall><methodName>m</methodName><params/><params/></methodCall>",
        b"<methodCall><methodName>m</methodName><params><value>1</value></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param/></params></methodCall>",
        b"<methodCall><methodName>m</methodName><extra/></methodCall>",
    ],
)
def test_malformed_method_calls_are_invalid_requests(body: bytes) -> None:
    """A wrong root, a missing or repeated methodName, or misplaced params is an invalid request."""
    assert refused(body).code == INVALID_REQUEST


@pytest.mark.parametrize(
    "body",
    [
        b"<methodCall><methodName>m</methodName></methodCall>",
        b"<methodResponse/>",
        b"<methodResponse><params/></methodResponse>",
        b"<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params>"
        b"</methodResponse>",
        b"<methodResponse><fault><value><struct/></value></fault></methodResponse>",
        b"<methodResponse><fault><value><struct><member><name>faultCode</name><value>4</value></member>"
        b"<member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>",
        b"<methodResponse><fault><value>oops</value></fault></methodResponse>",
        b"<methodResponse><params/><fault/></methodResponse>",
    ],
)
def test_malformed_responses_raise_invalid(body: bytes) -> None:
    """decode_outcome raises (not returns) an invalid-request Fault for a malformed methodResponse."""
    with pytest.raises(Fault) as caught:
        decode_outcome(body, LIMITS)
    assert caught.value.code == INVALID_REQUEST


def fault_code_or_none(body: bytes) -> int | None:
    """The code of the Fault decode_call raises, or None when it returns a Call; other exceptions escape."""
    try:
        assert isinstance(decode_call(body, LIMITS), Call)
    except Fault as error:
        return error.code
    return None


VALID = (
    b"<?xml version='1.0'?><methodCall><methodName>m</methodName><params><param><value><struct>"
    b"<member><name>a</name><value><array><data><value><i4>1</i4></value><value><double>2.5</double>"
    b"</value><value><base64>QUJD</base64></value><value><dateTime.iso8601>20200101T00:00:00"
    b"</dateTime.iso8601></value></data></array></value></member></struct></value></param></params>"
    b"</methodCall>"
)


# No example database on disk, no deadline: these assert behaviour, never time (a busy machine
# took 276 ms over one example against hypothesis's default deadline of 200).
PROPERTY = settings(database=None, deadline=None)


@PROPERTY
@given(st.data())
def test_mutated_requests_fail_only_with_faults(data: st.DataObject) -> None:
    """Any byte-level mutation of a valid request decodes or raises a protocol Fault, nothing else."""
    body = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(body) - 1))
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        if action == "delete":
            del body[position]
        else:
            byte = data.draw(st.sampled_from(list(b"<>/&;=\"' \x00\xffabc0123456789")))
            body[position : position + (action == "replace")] = bytes([byte])
    assert fault_code_or_none(bytes(body)) in (None, PARSE_ERROR, INVALID_REQUEST, REQUEST_TOO_LARGE)


@PROPERTY
@given(st.binary(max_size=300))
def test_random_bytes_fail_only_with_faults(body: bytes) -> None:
    """Arbitrary bytes never escape as anything but a protocol Fault."""
    assert fault_code_or_none(body) in (None, PARSE_ERROR, INVALID_REQUEST, REQUEST_TOO_LARGE)
