"""A worker written in Node.js against proto/ only serves XML-RPC and JSON-RPC clients through the bridge."""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
import xmlrpc.client
from collections.abc import Iterator

import pytest

from bridge.calls import Call, Success
from bridge.targets import load_worker
from bridge.testing import Deployment, deployment
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc, post, xmlrpc_call
from tests.integration.node_worker import node_worker


@pytest.fixture(scope="module")
def node_bridge() -> Iterator[Deployment]:
    """Sidecar and frontend whose only worker is the Node example worker."""
    secret = secrets.token_hex(16)
    with (
        node_worker(secret) as address,
        deployment([], env={"RPCBRIDGE_WORKER_SECRET": secret}, worker_addresses=[address]) as running,
    ):
        yield running


def test_xmlrpc_client_calls_node_procedures(node_bridge: Deployment) -> None:
    """echo, math.add and types.all answer XML-RPC clients as the Python example worker does."""
    url = node_bridge.url + "/rpc"
    assert xmlrpc_call(url, "echo", "ünïcødé <&>") == "ünïcødé <&>"
    assert xmlrpc_call(url, "math.add", 2, 40) == 42
    from_python = asyncio.run(load_worker(EXAMPLE_WORKER).run(Call("types.all")))
    assert isinstance(from_python, Success)
    assert xmlrpc_call(url, "types.all") == from_python.value


def test_xmlrpc_values_round_trip_through_node(node_bridge: Deployment) -> None:
    """Every XML-RPC type sent to the Node echo comes back with its type and value."""
    value = [
        None,
        False,
        7,
        -(2**31),
        -0.5,
        "x",
        b"\xff\x00",
        datetime.datetime(2001, 2, 3, 4, 5, 6),
        {"k": [{}]},
    ]
    assert xmlrpc_call(node_bridge.url + "/rpc", "echo", value) == value


def test_xmlrpc_client_sees_node_faults(node_bridge: Deployment) -> None:
    """A fault raised by a Node procedure, an unknown procedure and a wrong arity reach the client."""
    url = node_bridge.url + "/rpc"
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_call(url, "fail.fault", 7, "no such user")
    assert (raised.value.faultCode, raised.value.faultString) == (7, "no such user")
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_call(url, "math.add", 1)
    assert raised.value.faultCode == -32602
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_call(url, "no.such.procedure")
    assert raised.value.faultCode == -32601


def test_jsonrpc_client_calls_node_procedures(node_bridge: Deployment) -> None:
    """JSON-RPC by position and by name, big integers and decimals, and a batch reach the Node worker."""
    url = node_bridge.url + "/rpc"
    assert json_rpc(url, {"jsonrpc": "2.0", "method": "math.add", "params": {"a": 1, "b": 2}, "id": 1}) == (
        200,
        {"jsonrpc": "2.0", "result": 3, "id": 1},
    )
    status, body = json_rpc(url, {"jsonrpc": "2.0", "method": "types.big", "id": 2})
    assert status == 200
    assert body["result"]["big"] == 2**70
    status, body = json_rpc(
        url,
        [
            {"jsonrpc": "2.0", "method": "echo", "params": [{"a": [1, 2.5, None, True]}], "id": "e"},
            {"jsonrpc": "2.0", "method": "fail.fault", "params": [3, "nope"], "id": "f"},
        ],
    )
    assert status == 200
    assert sorted(body, key=lambda member: member["id"]) == [
        {"jsonrpc": "2.0", "result": {"a": [1, 2.5, None, True]}, "id": "e"},
        {"jsonrpc": "2.0", "error": {"code": 3, "message": "nope"}, "id": "f"},
    ]


def test_short_deadline_on_a_slow_node_procedure(node_bridge: Deployment) -> None:
    """A call that outlives its deadline ends with the deadline fault, and the worker keeps serving."""
    url = node_bridge.url + "/rpc"
    payload = json.dumps({"jsonrpc": "2.0", "method": "slow.sleep", "params": [30], "id": 1}).encode()
    status, _, raw = post(url, payload, "application/json", {"X-RPC-Timeout": "0.5"})
    assert status == 200
    assert json.loads(raw)["error"]["code"] == -32003
    assert xmlrpc_call(url, "math.add", 1, 1) == 2
