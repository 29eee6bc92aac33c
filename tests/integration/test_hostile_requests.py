"""Hostile requests against the real bridge get the protocol's fault, and the bridge keeps serving."""

from __future__ import annotations

import json
import xmlrpc.client

import pytest

from bridge.testing import Deployment
from tests.hostile_xml import BILLION_LAUGHS, DEEP_XML, EXTERNAL_ENTITY
from tests.integration.conftest import post, xmlrpc_call

OUT_OF_RANGE_I4 = (
    b"<methodCall><methodName>echo.any</methodName><params><param>"
    b"<value><i4>2147483648</i4></value></param></params></methodCall>"
)
INVALID_UTF8 = (
    b"<methodCall><methodName>echo</methodName><params><param>"
    b"<value>\xff\xfe</value></param></params></methodCall>"
)

XML_CASES = {
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "10 000-deep nesting": DEEP_XML,
    "out-of-range i4": OUT_OF_RANGE_I4,
    "invalid UTF-8": INVALID_UTF8,
    "not XML": b"<methodCall><methodName>echo",
}


def still_serving(bridge: Deployment) -> None:
    assert xmlrpc_call(bridge.url + "/rpc", "echo", "alive") == "alive"


@pytest.mark.parametrize("body", XML_CASES.values(), ids=XML_CASES.keys())
def test_hostile_xml_gets_an_xmlrpc_fault(bridge: Deployment, body: bytes) -> None:
    """Each hostile XML body is answered with an XML-RPC fault at HTTP 200 (no 500, no traceback)."""
    status, _, raw = post(bridge.url + "/rpc", body, "text/xml")
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(raw)
    assert raised.value.faultCode in (-32700, -32600, -32006)
    assert b"root:" not in raw and b"Traceback" not in raw
    still_serving(bridge)


def test_oversized_body_is_refused_before_decoding(bridge: Deployment) -> None:
    """A body over max_body_bytes gets the request-too-large fault, and the bridge goes on."""
    body = xmlrpc.client.dumps(("x" * (2 << 20),), "echo").encode()
    status, _, raw = post(bridge.url + "/rpc", body, "text/xml")
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(raw)
    assert raised.value.faultCode == -32006
    still_serving(bridge)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"jsonrpc": "2.0", "method": "echo", "params": [NaN], "id": 1}',
        b"\xff\xfe{}",
        b"{" * 100_000,
    ],
    ids=["deep arrays", "NaN literal", "invalid UTF-8", "unclosed braces"],
)
def test_hostile_json_gets_a_jsonrpc_error(bridge: Deployment, body: bytes) -> None:
    """Each hostile JSON body gets a JSON-RPC error object with id null, and the bridge goes on."""
    status, _, raw = post(bridge.url + "/rpc", body, "application/json")
    assert status == 200
    answer = json.loads(raw)
    assert answer["id"] is None
    assert answer["error"]["code"] in (-32700, -32600, -32006)
    still_serving(bridge)


def test_unknown_content_type_is_415(bridge: Deployment) -> None:
    """Content-Type picks the protocol; anything else is 415, not a guess."""
    status, _, _ = post(bridge.url + "/rpc", b"hello", "text/plain")
    assert status == 415
