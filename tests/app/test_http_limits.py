"""The HTTP edge of /rpc: content negotiation, body limits, and hostile bodies answered with faults."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import xmlrpc.client
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.app.conftest import TEST_SETTINGS, FakeInvoker, MakeClient
from tests.app.wire import json_post, json_result, xml_call, xml_post
from tests.hostile_xml import BILLION_LAUGHS, EXTERNAL_ENTITY

LIMIT = 1024


@pytest.fixture
async def small_client(make_client: MakeClient) -> TestClient[Any, Any]:
    """The frontend with a 1 KiB body limit."""
    return await make_client(limits=dataclasses.replace(TEST_SETTINGS.limits, max_body_bytes=LIMIT))


def _big_json() -> bytes:
    """A valid JSON-RPC request just over the limit."""
    return json.dumps({"jsonrpc": "2.0", "method": "echo", "params": ["x" * LIMIT], "id": 1}).encode()


def _big_xml() -> bytes:
    """A valid XML-RPC call just over the limit."""
    return xmlrpc.client.dumps(("x" * LIMIT,), "echo").encode()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "application/x-www-form-urlencoded"]
)
async def test_unsupported_content_type_is_415(client: TestClient[Any, Any], content_type: str) -> None:
    """A Content-Type the bridge does not speak gets 415 and a plain-text list of accepted types."""
    response = await client.post("/rpc", data=b"{}", headers={"Content-Type": content_type})
    assert response.status == 415
    assert response.content_type == "text/plain"
    text = await response.text()
    for accepted in ("text/xml", "application/xml", "application/json", "application/json-rpc"):
        assert accepted in text


async def test_missing_content_type_is_415(client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """A body with no Content-Type at all is not guessed at: 415, and nothing runs."""
    response = await client.post("/rpc", data=b'{"jsonrpc":"2.0","method":"get_data","id":1}')
    assert response.status == 415
    assert invoker.calls == []


async def test_get_on_rpc_is_405(client: TestClient[Any, Any]) -> None:
    """The RPC routes accept POST only."""
    assert (await client.get("/rpc")).status == 405


async def test_declared_length_over_limit_json(
    small_client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A JSON body over max_body_bytes gets a REQUEST_TOO_LARGE error with id null, not an HTML 413."""
    reply = await json_post(small_client, _big_json())
    assert reply["id"] is None
    assert reply["error"]["code"] == -32006
    assert invoker.calls == []
    assert await json_result(small_client, "echo", ["small"]) == "small"


async def test_declared_length_over_limit_xml(
    small_client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """An XML body over max_body_bytes gets a REQUEST_TOO_LARGE fault at HTTP 200."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_post(small_client, _big_xml())
    assert caught.value.faultCode == -32006
    assert invoker.calls == []
    assert await xml_call(small_client, "echo", "small") == "small"


HEAD = b"POST /rpc HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"


async def _answer_to_unfinished_request(client: TestClient[Any, Any], sent: bytes) -> Any:
    """Send a request whose body never completes, and return the JSON reply the server gives anyway."""
    assert client.server.host is not None
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(sent)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if line)
        length = int(next(value for name, value in fields.items() if name.lower() == b"content-length"))
        return json.loads(await reader.readexactly(length))
    finally:
        writer.close()


async def test_declared_length_is_refused_before_the_body_arrives(small_client: TestClient[Any, Any]) -> None:
    """Content-Length over the limit is answered at once: the server does not wait for the body."""
    reply = await _answer_to_unfinished_request(small_client, HEAD + b"Content-Length: 1000000000\r\n\r\n")
    assert reply["error"]["code"] == -32006


async def test_chunked_body_is_refused_once_past_the_limit(small_client: TestClient[Any, Any]) -> None:
    """A chunked body is refused as soon as it passes the limit, without waiting for its end."""
    chunk = b"%x\r\n%s\r\n" % (2 * LIMIT, b" " * (2 * LIMIT))
    reply = await _answer_to_unfinished_request(
        small_client, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunk
    )
    assert reply["error"]["code"] == -32006


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    """A body sent with chunked transfer encoding, so without Content-Length."""
    for _ in range(count):
        yield b" " * size


async def test_chunked_body_over_limit(small_client: TestClient[Any, Any], invoker: FakeInvoker) -> None:
    """A chunked body is counted while read, and refused with the protocol fault past the limit."""
    response = await small_client.post(
        "/rpc", data=_chunks(8, 512), headers={"Content-Type": "application/json"}
    )
    assert response.status == 200
    reply = await response.json()
    assert (reply["id"], reply["error"]["code"]) == (None, -32006)
    assert invoker.calls == []
    assert await json_result(small_client, "echo", ["after"]) == "after"


async def test_chunked_body_within_limit_is_served(small_client: TestClient[Any, Any]) -> None:
    """A chunked body under the limit is read whole and answered."""

    async def body() -> AsyncIterator[bytes]:
        yield b'{"jsonrpc": "2.0", "method": "subtract",'
        yield b' "params": [42, 23], "id": 1}'

    response = await small_client.post("/rpc", data=body(), headers={"Content-Type": "application/json"})
    assert await response.json() == {"jsonrpc": "2.0", "result": 19, "id": 1}


async def test_compressed_body_is_limited_after_decompression(
    small_client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A small gzip body that inflates past the limit is refused (no zip bomb through the limit)."""
    payload = gzip.compress(_big_json() + b" " * 100_000)
    assert len(payload) < LIMIT
    response = await small_client.post(
        "/rpc", data=payload, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert (await response.json())["error"]["code"] == -32006
    assert invoker.calls == []


DEPTH = 10_000


async def test_deep_xml_is_refused_and_serving_goes_on(
    client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A 10 000-deep XML-RPC value gets a fault, and the next request is served."""
    value = "<value><array><data>" * DEPTH + "</data></array></value>" * DEPTH
    body = f"<methodCall><methodName>echo</methodName><params><param>{value}</param></params></methodCall>"
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_post(client, body.encode())
    assert caught.value.faultCode == -32006
    assert invoker.calls == []
    assert await xml_call(client, "echo", [[1]]) == [[1]]


async def test_deep_json_is_refused_and_serving_goes_on(
    client: TestClient[Any, Any], invoker: FakeInvoker
) -> None:
    """A 10 000-deep JSON value gets an error with id null, and the next request is served."""
    body = '{"jsonrpc": "2.0", "method": "echo", "params": [' + "[" * DEPTH + "]" * DEPTH + '], "id": 1}'
    reply = await json_post(client, body)
    assert (reply["id"], reply["error"]["code"]) == (None, -32006)
    assert invoker.calls == []
    assert await json_result(client, "echo", [[[1]]]) == [[1]]


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
async def test_entity_attacks_are_refused(
    client: TestClient[Any, Any], invoker: FakeInvoker, body: bytes
) -> None:
    """XML with a DTD or entities gets an invalid-request fault, nothing runs, and serving goes on."""
    with pytest.raises(xmlrpc.client.Fault) as caught:
        await xml_post(client, body)
    assert caught.value.faultCode == -32600
    assert "root:" not in caught.value.faultString
    assert invoker.calls == []
    assert await xml_call(client, "echo", "next") == "next"
