"""An XML-RPC client in another language (Node.js, npm package "xmlrpc") gets what xmlrpc.client gets."""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bridge.testing import Deployment
from tests.integration.conftest import xmlrpc_call

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).parent / "interop" / "xmlrpc_client.js"


def node_call(url: str, method: str, *args: Any) -> Any:
    node = shutil.which("node")
    assert node is not None, "node is part of the machine image and of `make install`"
    completed = subprocess.run(
        [node, str(CLIENT), url, method, json.dumps(list(args))],
        capture_output=True,
        check=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "TZ": "UTC", "NODE_PATH": str(ROOT / "node_modules")},
    )
    return json.loads(completed.stdout)


def python_tagged(value: Any) -> Any:
    """Python's view of a value, tagged as the Node client tags it (naive datetimes read as UTC)."""
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return {
            "dateTime": value.replace(tzinfo=datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        }
    if isinstance(value, list):
        return [python_tagged(v) for v in value]
    if isinstance(value, dict):
        return {k: python_tagged(v) for k, v in value.items()}
    return value


def test_node_client_gets_the_same_values_as_python(bridge: Deployment) -> None:
    """types.all read by Node's xmlrpc equals types.all read by Python's xmlrpc.client."""
    url = bridge.url + "/rpc"
    from_python = xmlrpc_call(url, "types.all")
    from_node = node_call(url, "types.all")["result"]
    # JavaScript numbers cannot hold every 64-bit integer, so the npm client hands <i8> over as
    # its decimal text; the value is the same.
    from_node["i8"] = int(from_node["i8"])
    assert from_node == python_tagged(from_python)


@pytest.mark.parametrize("args", [["plain"], ["  white space\tkept  "], ["ünïcødé ✓ <&>"]])
def test_node_client_echo(bridge: Deployment, args: list[Any]) -> None:
    """Strings sent by Node come back identical."""
    assert node_call(bridge.url + "/rpc", "echo", *args) == {"result": args[0]}


def test_node_client_sees_faults_with_interop_codes(bridge: Deployment) -> None:
    """Faults reach a Node client with their code and message."""
    answer = node_call(bridge.url + "/rpc", "math.divide", 1, 0)
    assert answer == {"fault": {"code": 1, "message": "division by zero"}}
