"""XML-RPC over HTTP: values, faults at HTTP 200 with interoperability codes, /RPC2, multicall."""

from __future__ import annotations

import datetime
import xmlrpc.client
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.app.conftest import FakeInvoker
from tests.app.wire import xml_call, xml_post

VALUES: list[Any] = [
    0,
    -(2**31),
    True,
    False,
    1.5,
    "",
    "  spaces & <angles> kept  ",
    "ünïcödé ✓",
    b"\x00\xffbytes",
    datetime.datetime(1998, 7, 17, 14, 8, 55),
    None,
    [1, "two", [3.0]],
    {"b": 1, "a": {"nested": [True]}},
    [],
    {},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
async def test_values_round_trip(client: TestClient[Any, Any], value: Any) -> None:
    """A value sent with xmlrpc.client comes back from echo with its type and value."""
    result = await xml_call(client, "echo", value)
    assert result == value
    assert type(result) is type(value)


async def test_i8_round_trips(client: TestClient[Any, Any]) -> None:
    """An <i8> beyond 32 bits comes back as the same integer."""
    body = (
        b"<?xml version='1.0'?><methodCall><methodName>echo</methodName>"
        b"<params><param><value><i8>9007199254740993</i8></value></param></params></methodCall>"
    )
    assert await xml_post(client, body) == 9007199254740993


async def test_positional_call(client: TestClient[Any, Any]) -> None:
    """Params arrive in order: subtract(42, 23) is 19."""
    assert await xml_call(client, "subtract", 42, 23) == 19


async def test_application_fault_at_http_200(client: TestClient[Any, Any]) -> None:
    """A procedure's Fault is an XML-RPC fault with its own code, sent with HTTP 200."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "fail")
    assert (caught.value.faultCode, caught.value.faultString) == (4, "no such user")


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [("no.such.method", (), -32601), ("subtract", (1,), -32602)],
)
async def test_interop_fault_codes(client: TestClient[Any, Any], method: str, params: Any, code: int) -> None:
    """Unknown methods and wrong arity get the interoperability fault codes."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, method, *params)
    assert caught.value.faultCode == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<methodCall><methodName>echo</methodName><params>", -32700),
        (b"not xml at all", -32700),
        (b"<methodResponse><params/></methodResponse>", -32600),
        (b"", -32700),
    ],
)
async def test_malformed_bodies_get_faults(
    client: TestClient[Any, Any], invoker: FakeInvoker, body: bytes, code: int
) -> None:
    """A body that is not a methodCall gets a parse or invalid-request fault and runs nothing."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_post(client, body)
    assert caught.value.faultCode == code
    assert invoker.calls == []


async def test_rpc2_is_an_alias(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """POST /RPC2 is answered exactly as /rpc, with an unversioned context."""
    assert await xml_call(client, "subtract", 5, 3, path="/RPC2") == 2
    assert invoker.calls[0][1].api_version == 0


@pytest.mark.parametrize("content_type", ["text/xml", "application/xml", "Text/XML; charset=UTF-8"])
async def test_every_xml_media_type_speaks_xmlrpc(client: TestClient[Any, Any], content_type: str) -> None:
    """Each XML media type is answered as XML-RPC, whatever its case and parameters."""
    body = xmlrpc.client.dumps((7, 2), "subtract").encode()
    assert await xml_post(client, body, headers={"Content-Type": content_type}) == 5


async def test_internal_error_carries_request_id_not_detail(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """An exception escaping the invoker becomes -32603 naming the request id, never the exception."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "explode", headers={"X-Request-Id": "trace-me"})
    assert caught.value.faultCode == -32603
    assert caught.value.faultString == "Internal error: request_id trace-me"
    assert "hunter2" not in caught.value.faultString
    assert any(record.exc_info and "trace-me" in record.getMessage() for record in caplog.records)
    assert await xml_call(client, "echo", "still serving") == "still serving"


def _multicall(*entries: tuple[str, tuple[Any, ...]]) -> bytes:
    """A system.multicall body for (methodName, params) entries."""
    calls = [{"methodName": name, "params": list(params)} for name, params in entries]
    return xmlrpc.client.dumps((calls,), "system.multicall", allow_none=True).encode()


async def test_multicall_runs_entries_in_order(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """system.multicall answers [result] per success and a fault struct per fault, in entry order."""
    result = await xml_post(
        client,
        _multicall(("subtract", (42, 23)), ("fail", ()), ("echo", ("x",)), ("nope", ())),
    )
    assert result == [
        [19],
        {"faultCode": 4, "faultString": "no such user"},
        ["x"],
        {"faultCode": -32601, "faultString": "Method not found"},
    ]
    assert invoker.procedures_called() == ["subtract", "fail", "echo", "nope"]
    assert len({id(context) for _, context in invoker.calls}) == 1


async def test_multicall_runs_entries_one_at_a_time(client: TestClient[Any, Any]) -> None:
    """Entries run sequentially: two "meet" calls never overlap, so the first waits out its deadline."""
    result = await xml_post(
        client, _multicall(("meet", (2,)), ("meet", (2,))), headers={"X-RPC-Timeout": "0.2"}
    )
    assert result[0]["faultCode"] == -32003
    assert result[1] == [2]


async def test_multicall_may_include_introspection(client: TestClient[Any, Any]) -> None:
    """A multicall entry may be a system.* introspection call."""
    result = await xml_post(client, _multicall(("system.methodHelp", ("subtract",)), ("get_data", ())))
    assert result == [["Subtract subtrahend from minuend."], [["hello", 5]]]


async def test_nested_multicall_is_refused_per_entry(
    client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A system.multicall inside a multicall is refused in its own slot; the other entries still run."""
    result = await xml_post(
        client, _multicall(("system.multicall", ([{"methodName": "echo", "params": [1]}],)), ("echo", (2,)))
    )
    assert result[0]["faultCode"] == -32600
    assert result[1] == [2]
    assert invoker.procedures_called() == ["echo"]


async def test_multicall_over_the_limit_runs_nothing(
    client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A multicall longer than max_multicall is one REQUEST_TOO_LARGE fault, and no entry runs."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_post(client, _multicall(*[("echo", (n,)) for n in range(6)]))
    assert caught.value.faultCode == -32006
    assert invoker.calls == []


async def test_multicall_needs_one_array(client: TestClient[Any, Any]) -> None:
    """system.multicall with anything but one array of calls is an invalid-params fault."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "system.multicall", "not", "an array")
    assert caught.value.faultCode == -32602
