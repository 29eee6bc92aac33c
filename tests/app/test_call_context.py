"""The CallContext the frontend builds: request id, timeout header, protocol, version and peer."""

from __future__ import annotations

import re
import xmlrpc.client
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.app.conftest import FakeInvoker
from tests.app.wire import json_error, json_post, json_result, request, xml_call

HEX_UUID = re.compile(r"[0-9a-f]{32}")


async def test_request_id_is_echoed_and_passed_on(client: TestClient[Any, Any]) -> None:
    """A client's X-Request-Id reaches the invoker and comes back on the response."""
    response = await client.post(
        "/rpc",
        json=request("context"),
        headers={"Content-Type": "application/json", "X-Request-Id": "client id 42/x"},
    )
    assert response.headers["X-Request-Id"] == "client id 42/x"
    assert (await response.json())["result"]["request_id"] == "client id 42/x"


async def test_request_id_is_made_when_missing(client: TestClient[Any, Any]) -> None:
    """Without X-Request-Id the frontend makes a fresh uuid4 hex id per request and echoes it."""
    first = await client.post("/rpc", json=request("context"), headers={"Content-Type": "application/json"})
    second = await client.post("/rpc", json=request("context"), headers={"Content-Type": "application/json"})
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(HEX_UUID.fullmatch(value) for value in ids)
    assert ids[0] != ids[1]
    assert (await first.json())["result"]["request_id"] == ids[0]


@pytest.mark.parametrize("offered", ["x" * 129, "caf\u00e9"], ids=["too-long", "not-ascii"])
async def test_unacceptable_request_id_is_replaced(client: TestClient[Any, Any], offered: str) -> None:
    """An X-Request-Id that is too long or not printable ASCII is replaced by a generated one."""
    response = await client.post(
        "/rpc",
        json=request("context"),
        headers={"Content-Type": "application/json", "X-Request-Id": offered},
    )
    assert HEX_UUID.fullmatch(response.headers["X-Request-Id"])


async def test_longest_acceptable_request_id_is_kept(client: TestClient[Any, Any]) -> None:
    """128 printable ASCII characters is still the client's id."""
    offered = "y" * 128
    response = await client.get("/healthz", headers={"X-Request-Id": offered})
    assert response.headers["X-Request-Id"] == offered


async def test_request_id_on_non_rpc_responses(client: TestClient[Any, Any]) -> None:
    """415, 404 and 405 responses carry the request id too."""
    for method, path, headers in [
        ("POST", "/rpc", {"Content-Type": "text/plain"}),
        ("GET", "/nowhere", {}),
        ("GET", "/rpc", {}),
    ]:
        response = await client.request(method, path, headers={**headers, "X-Request-Id": "abc"})
        assert response.status in (404, 405, 415)
        assert response.headers["X-Request-Id"] == "abc"


async def test_context_fields(client: TestClient[Any, Any]) -> None:
    """Each protocol names itself in the context; the peer is the client's address; /rpc is version 0."""
    over_json = await json_result(client, "context")
    over_xml = await xml_call(client, "context")
    assert (over_json["protocol"], over_xml["protocol"]) == ("jsonrpc", "xmlrpc")
    assert over_json["peer"] == "127.0.0.1"
    assert over_json["api_version"] == over_xml["api_version"] == 0
    assert (await json_result(client, "context", path="/rpc/v3"))["api_version"] == 3


async def test_default_timeout(client: TestClient[Any, Any]) -> None:
    """Without X-RPC-Timeout calls get settings.default_timeout."""
    assert await json_result(client, "slow", [0.01]) == 5.0


@pytest.mark.parametrize(("header", "expected"), [("2.5", 2.5), ("7", 7.0), (".5", 0.5), ("30", 30.0)])
async def test_timeout_header_is_passed_through(
    client: TestClient[Any, Any], header: str, expected: float
) -> None:
    """X-RPC-Timeout in decimal seconds reaches the invoker as ctx.timeout."""
    assert await json_result(client, "slow", [0.01], headers={"X-RPC-Timeout": header}) == expected


@pytest.mark.parametrize("header", ["30.5", "99999", "999999999999.5"])
async def test_timeout_header_is_clamped(client: TestClient[Any, Any], header: str) -> None:
    """A timeout over settings.max_timeout is clamped to it."""
    assert await xml_call(client, "slow", 0.01, headers={"X-RPC-Timeout": header}) == 30.0


INVALID_TIMEOUTS = ["0", "0.0", "-1", "abc", "inf", "nan", "1e3", "", "1,5", "\u0661"]


@pytest.mark.parametrize("header", INVALID_TIMEOUTS)
async def test_invalid_timeout_header_json(
    client: TestClient[Any, Any], invoker: FakeInvoker, header: str
) -> None:
    """An invalid X-RPC-Timeout is an Invalid Request error with id null, and nothing runs."""
    reply = await json_post(client, request("get_data"), headers={"X-RPC-Timeout": header})
    assert reply["id"] is None
    assert reply["error"]["code"] == -32600
    assert "data" not in reply["error"]
    assert invoker.calls == []


@pytest.mark.parametrize("header", INVALID_TIMEOUTS[:4])
async def test_invalid_timeout_header_xml(
    client: TestClient[Any, Any], invoker: FakeInvoker, header: str
) -> None:
    """An invalid X-RPC-Timeout is an Invalid Request fault for XML-RPC clients, and nothing runs."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "get_data", headers={"X-RPC-Timeout": header})
    assert caught.value.faultCode == -32600
    assert "X-RPC-Timeout" in caught.value.faultString
    assert invoker.calls == []


async def test_deadline_backstop(client: TestClient[Any, Any]) -> None:
    """A call the invoker never answers ends with a deadline fault once ctx.timeout has passed."""
    error = await json_error(client, "slow", [60], headers={"X-RPC-Timeout": "0.05"})
    assert error["code"] == -32003


async def test_internal_error_names_the_request(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """An exception escaping the invoker is -32603 with data {"request_id"}, logged with its traceback."""
    response = await client.post(
        "/rpc", json=request("explode", id=5), headers={"Content-Type": "application/json"}
    )
    request_id = response.headers["X-Request-Id"]
    assert await response.json() == {
        "jsonrpc": "2.0",
        "error": {"code": -32603, "message": "Internal error", "data": {"request_id": request_id}},
        "id": 5,
    }
    logged = [record for record in caplog.records if record.exc_info and request_id in record.getMessage()]
    assert logged
    assert logged[0].name == "rpcbridge.frontend"
    assert await json_result(client, "echo", ["ok"]) == "ok"


async def test_internal_error_from_the_worker_names_the_request(client: TestClient[Any, Any]) -> None:
    """A -32603 fault the invoker returns also reaches the client with the request id as data."""
    response = await client.post(
        "/rpc",
        json=request("worker_bug"),
        headers={"Content-Type": "application/json", "X-Request-Id": "w-1"},
    )
    assert (await response.json())["error"] == {
        "code": -32603,
        "message": "Internal error",
        "data": {"request_id": "w-1"},
    }
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_call(client, "worker_bug", headers={"X-Request-Id": "w-2"})
    assert caught.value.faultString == "Internal error: request_id w-2"


async def test_internal_error_in_a_batch_stays_with_its_member(client: TestClient[Any, Any]) -> None:
    """One member's unexpected exception does not spoil the other members' replies."""
    replies = await json_post(client, [request("explode", id=1), request("get_data", id=2)])
    assert replies[0]["error"]["code"] == -32603
    assert replies[1]["result"] == ["hello", 5]


async def test_standard_client_errors_carry_no_data(client: TestClient[Any, Any]) -> None:
    """-32601 and -32602 replies carry no data member, as the specification prints them."""
    assert await json_error(client, "no.such") == {"code": -32601, "message": "Method not found"}
    assert await json_error(client, "subtract", [1]) == {"code": -32602, "message": "Invalid params"}


async def test_forwarded_for_names_the_peer_only_behind_a_trusted_proxy(make_client: Any) -> None:
    """X-Forwarded-For sets the peer when the connection comes from `trusted_proxies`, never otherwise."""
    forwarded = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
    trusting = await make_client(trusted_proxies=("127.0.0.0/8",))
    assert (await json_result(trusting, "context", headers=forwarded))["peer"] == "203.0.113.7"
    trusting_both = await make_client(trusted_proxies=("127.0.0.0/8", "203.0.113.0/24"))
    assert (await json_result(trusting_both, "context", headers=forwarded))["peer"] == "198.51.100.9"
    untrusting = await make_client()
    assert (await json_result(untrusting, "context", headers=forwarded))["peer"] == "127.0.0.1"
