"""Helpers that speak XML-RPC and JSON-RPC to the test client, as a legacy client would."""

from __future__ import annotations

import json
import xmlrpc.client
from typing import Any

from aiohttp.test_utils import TestClient

XML = {"Content-Type": "text/xml"}
JSON = {"Content-Type": "application/json"}


async def xml_call(
    client: TestClient[Any, Any],
    method: str,
    *params: Any,
    path: str = "/rpc",
    headers: dict[str, str] | None = None,
) -> Any:
    """Call over XML-RPC and return the result; an XML-RPC fault raises `xmlrpc.client.Fault`."""
    body = xmlrpc.client.dumps(params, method, allow_none=True)
    return await xml_post(client, body.encode(), path=path, headers=headers)


async def xml_post(
    client: TestClient[Any, Any], body: bytes, *, path: str = "/rpc", headers: dict[str, str] | None = None
) -> Any:
    """POST an XML-RPC body, check the HTTP side of the reply, and return the parsed result."""
    response = await client.post(path, data=body, headers={**XML, **(headers or {})})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    (result,), _ = xmlrpc.client.loads(await response.read(), use_builtin_types=True)
    return result


async def json_post(
    client: TestClient[Any, Any],
    payload: Any,
    *,
    path: str = "/rpc",
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a JSON-RPC payload (bytes, str, or a value to serialise); return the decoded reply.

    Returns None for HTTP 204, after checking that nothing was sent.
    """
    if isinstance(payload, str):
        payload = payload.encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = await client.post(path, data=body, headers={**JSON, **(headers or {})})
    if response.status == 204:
        assert await response.read() == b""
        return None
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(await response.read())


def request(method: str, params: Any = None, id: Any = 1) -> dict[str, Any]:
    """A JSON-RPC 2.0 request object."""
    document: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        document["params"] = params
    return document


async def json_result(client: TestClient[Any, Any], method: str, params: Any = None, **kwargs: Any) -> Any:
    """Call over JSON-RPC and return the result member, failing the test on an error reply."""
    reply = await json_post(client, request(method, params), **kwargs)
    assert "error" not in reply, reply
    return reply["result"]


async def json_error(client: TestClient[Any, Any], method: str, params: Any = None, **kwargs: Any) -> Any:
    """Call over JSON-RPC and return the error member, failing the test on a result."""
    reply = await json_post(client, request(method, params), **kwargs)
    assert "result" not in reply, reply
    return reply["error"]
