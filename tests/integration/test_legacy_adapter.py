"""Legacy adapters end to end: modern gRPC clients and XML-RPC clients reach a plain SimpleXMLRPCServer.

The upstream runs in this process (a thread on 127.0.0.1:0); the adapters, sidecar and frontend
are real processes. Adapters start before the sidecar and are told the sidecar's address, which
the test takes from the kernel first, as `rpcbridge up` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xmlrpc.server import SimpleXMLRPCServer

import grpc
import pytest

from bridge.auth.signing import credentials_from_params, params_signature
from bridge.rpc.values import from_value, to_value
from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.records import CallFilter, CallRecord
from bridge.testing import RunningProcess, start_role, start_up, wait_until
from rpcbridge.v1 import worker_pb2, worker_pb2_grpc
from tests.integration.conftest import ROOT, json_rpc, xmlrpc_call
from tests.unit.client.stub_server import jsonrpc_responder, running_stub

UPSTREAM_KEY = "upstream-api-key"
KEY_VARIABLE = "RPCBRIDGE_TEST_UPSTREAM_KEY"
LEGACY_SERVER = str(ROOT / "examples" / "legacy_server.py")
MODERN_CLIENT = str(ROOT / "examples" / "modern_grpc_client.py")


def free_port() -> int:
    """A port the kernel just handed out and took back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def echo(value: Any) -> Any:
    """Return the value unchanged."""
    return value


def fail() -> None:
    """Always fault 42."""
    raise xmlrpc.client.Fault(42, "upstream says no")


def whoami(*params: Any) -> list[Any]:
    """Check the four rpcenable auth params first, then return the user and the other params."""
    credentials, rest = credentials_from_params(params)
    expected = params_signature(UPSTREAM_KEY, credentials.nonce, credentials.timestamp, credentials.username)
    if credentials.signature != expected:
        raise xmlrpc.client.Fault(401, "bad signature")
    return [credentials.username, *rest]


@contextlib.contextmanager
def legacy_upstream() -> Iterator[str]:
    """A plain SimpleXMLRPCServer with introspection, in a thread; yields its URL."""
    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True, use_builtin_types=True)
    server.register_introspection_functions()
    for function in (add, echo, fail, whoami):
        server.register_function(function)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/RPC2"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class LegacyStack:
    """Adapters, sidecar and frontend started for one test module."""

    upstream: str
    sidecar: RunningProcess
    frontend: RunningProcess
    scratch: Path

    @property
    def grpc_address(self) -> str:
        return str(self.sidecar.facts["grpc"])

    @property
    def rpc_url(self) -> str:
        return str(self.frontend.facts["url"]) + "/rpc"


@contextlib.contextmanager
def legacy_stack(scratch: Path, adapters: list[list[str]], env: dict[str, str]) -> Iterator[LegacyStack]:
    """Start each adapter (its `rpcbridge legacy` flags), then a sidecar routing to them, then a frontend."""
    env = {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16), **env}
    common = ["--data-dir", str(scratch / "data")]
    sidecar_port = free_port()
    started: list[RunningProcess] = []
    try:
        for flags in adapters:
            args = [*flags, "--listen", "127.0.0.1:0", "--sidecar", f"127.0.0.1:{sidecar_port}", *common]
            started.append(start_role("legacy", args, scratch, env))
        sidecar_args = ["--grpc-port", str(sidecar_port), "--admin-port", "0", *common]
        for adapter in started:
            sidecar_args += ["--worker", adapter.facts["address"]]
        sidecar = start_role("sidecar", sidecar_args, scratch, env)
        started.append(sidecar)
        frontend = start_role(
            "frontend", ["--sidecar", sidecar.facts["grpc"], "--http-port", "0", *common], scratch, env
        )
        started.append(frontend)
        yield LegacyStack(adapters[0][1], sidecar, frontend, scratch)
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegacyStack]:
    """Three adapters: "old." plain, "auth." adding rpcenable auth params, "down." for a closed port."""
    scratch = tmp_path_factory.mktemp("legacy")
    with legacy_upstream() as upstream:
        adapters = [
            ["--upstream", upstream, "--prefix", "old."],
            [
                "--upstream",
                upstream,
                "--prefix",
                "auth.",
                "--auth-user",
                "alice",
                "--auth-key-env",
                KEY_VARIABLE,
            ],
            ["--upstream", f"http://127.0.0.1:{free_port()}/RPC2", "--prefix", "down.", "--method", "ping"],
        ]
        with legacy_stack(scratch, adapters, {KEY_VARIABLE: UPSTREAM_KEY}) as running:
            yield running


@pytest.fixture
def stub(stack: LegacyStack) -> Iterator[worker_pb2_grpc.WorkerStub]:
    with grpc.insecure_channel(stack.grpc_address) as channel:
        yield worker_pb2_grpc.WorkerStub(channel)


def invoke(stub: worker_pb2_grpc.WorkerStub, procedure: str, *params: Any) -> worker_pb2.InvokeResponse:
    request = worker_pb2.InvokeRequest(procedure=procedure, params=[to_value(p) for p in params])
    response: worker_pb2.InvokeResponse = stub.Invoke(request, timeout=30)
    return response


VALUES = {
    "int": 7,
    # Not "\r": Python's xmlrpc.client sends it raw, and XML parsers read it back as "\n".
    "string": "  <&> spaced\n\t",
    "bytes": b"\x00\x01binary",
    "when": datetime.datetime(2026, 11, 22, 9, 30, 15),
    "nothing": None,
    "flag": True,
    "ratio": 0.25,
    "list": [1, "two", [3.0]],
    "empty": {},
}


def test_grpc_stub_reaches_a_legacy_procedure(stub: worker_pb2_grpc.WorkerStub) -> None:
    """A generated gRPC stub calls old.add on the sidecar; the adapter forwards it to the XML-RPC server."""
    assert from_value(invoke(stub, "old.add", 2, 40).result) == 42


def test_values_keep_their_types_through_the_adapter_over_grpc(stub: worker_pb2_grpc.WorkerStub) -> None:
    """Ints, strings, base64 bytes, dateTime, nil, booleans, doubles and containers come back unchanged."""
    result = from_value(invoke(stub, "old.echo", VALUES).result)
    assert result == VALUES
    assert {key: type(value) for key, value in result.items()} == {k: type(v) for k, v in VALUES.items()}


def test_xmlrpc_client_reaches_the_legacy_server_through_the_bridge(stack: LegacyStack) -> None:
    """An XML-RPC client of the bridge calls old.echo and gets every value back with its type."""
    assert xmlrpc_call(stack.rpc_url, "old.echo", VALUES) == VALUES


def test_upstream_fault_keeps_its_code_and_message(
    stack: LegacyStack, stub: worker_pb2_grpc.WorkerStub
) -> None:
    """The upstream's fault 42 reaches gRPC and XML-RPC clients with its own code and message."""
    response = invoke(stub, "old.fail")
    assert (response.fault.code, response.fault.message) == (42, "upstream says no")
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_call(stack.rpc_url, "old.fail")
    assert (raised.value.faultCode, raised.value.faultString) == (42, "upstream says no")


def test_upstream_down_is_a_clear_transport_fault(stack: LegacyStack) -> None:
    """An upstream that refuses connections gives fault -32300 saying so, not an internal error."""
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_call(stack.rpc_url, "down.ping")
    assert raised.value.faultCode == -32300
    assert (
        raised.value.faultString == "Transport error: the upstream server did not answer: connection refused"
    )


def test_auth_params_are_added_when_configured(stack: LegacyStack) -> None:
    """With --auth-user/--auth-key-env the upstream gets valid rpcenable auth params before the call's own."""
    assert xmlrpc_call(stack.rpc_url, "auth.whoami", "x", 1) == ["alice", "x", 1]
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc_call(stack.rpc_url, "old.whoami", "x")
    assert raised.value.faultCode == 1  # without the adapter's auth the upstream's own check fails


def test_catalogue_shows_upstream_methods_with_their_help(stub: worker_pb2_grpc.WorkerStub) -> None:
    """The upstream's methods appear prefixed, with system.methodHelp's text; its system.* methods do not."""
    procedures = {p.name: p for p in stub.ListProcedures(worker_pb2.ListProceduresRequest()).procedures}
    assert {"old.add", "old.echo", "old.fail", "old.whoami", "auth.add", "down.ping"} <= set(procedures)
    assert procedures["old.add"].help == "Add two integers."
    assert not any(name.startswith(("old.system.", "system.")) for name in procedures)


def outgoing(settings: Settings, procedure: str) -> list[CallRecord]:
    """The outgoing call-log rows for an upstream procedure."""

    async def query() -> list[CallRecord]:
        stores = await open_stores(settings)
        try:
            filters = CallFilter(direction="outgoing", procedure=procedure)
            return list((await stores.call_log.query(filters, limit=50, offset=0)).records)
        finally:
            await stores.close()

    return asyncio.run(query())


def test_every_upstream_call_is_in_the_call_log(stack: LegacyStack, stub: worker_pb2_grpc.WorkerStub) -> None:
    """Each forwarded call leaves an outgoing row: ok, fault with its code, error with the transport text."""
    settings = Settings(data_dir=stack.scratch / "data")
    invoke(stub, "old.add", 1, 1)
    invoke(stub, "old.fail")
    invoke(stub, "down.ping")
    wait_until(
        lambda: outgoing(settings, "add") and outgoing(settings, "fail") and outgoing(settings, "ping")
    )
    ok = outgoing(settings, "add")[0]
    assert (ok.protocol, ok.outcome, ok.peer) == ("xmlrpc", "ok", stack.upstream)
    assert ok.request_bytes > 0 and ok.response_bytes > 0
    failed = outgoing(settings, "fail")[0]
    assert (failed.outcome, failed.fault_code) == ("fault", 42)
    down = outgoing(settings, "ping")[0]
    assert down.outcome == "error" and "connection refused" in down.status


def test_jsonrpc_upstream_with_named_methods(tmp_path: Path) -> None:
    """--protocol jsonrpc with --method names forwards to a JSON-RPC 2.0 server, big ints intact."""
    functions = {"add": lambda a, b: a + b, "subtract": lambda minuend, subtrahend: minuend - subtrahend}
    with running_stub() as upstream:
        upstream.respond = jsonrpc_responder(functions)
        flags = ["--upstream", upstream.url + "/", "--protocol", "jsonrpc", "--prefix", "j."]
        flags += ["--method", "add", "--method", "subtract"]
        with legacy_stack(tmp_path, [flags], {}) as running:
            assert xmlrpc_call(running.rpc_url, "j.add", 2, 3) == 5
            request = {
                "jsonrpc": "2.0",
                "method": "j.subtract",
                "params": {"minuend": 2**70, "subtrahend": 1},
            }
            _, answer = json_rpc(running.rpc_url, {**request, "id": 1})
            assert answer["result"] == 2**70 - 1


def test_method_names_from_the_config_file(tmp_path: Path) -> None:
    """`legacy_methods` in the config file names the methods of an upstream without introspection."""
    config = tmp_path / "rpcbridge.toml"
    config.write_text('legacy_methods = "add, subtract"\n')
    with running_stub() as upstream:
        upstream.respond = jsonrpc_responder({})
        args = [
            "--upstream",
            upstream.url,
            "--protocol",
            "jsonrpc",
            "--prefix",
            "j.",
            "--config",
            str(config),
        ]
        adapter = start_role("legacy", args, tmp_path, {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16)})
        try:
            assert adapter.facts["procedures"] == ["j.add", "j.subtract"]
        finally:
            adapter.stop()


def test_upstream_without_introspection_fails_clearly(tmp_path: Path) -> None:
    """An upstream without system.listMethods and no --method: the adapter exits saying what to do."""
    with running_stub() as upstream:
        upstream.respond = jsonrpc_responder({})
        with pytest.raises(RuntimeError) as raised:
            start_role(
                "legacy",
                ["--upstream", upstream.url, "--protocol", "jsonrpc"],
                tmp_path,
                {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16)},
            )
    assert "system.listMethods" in str(raised.value) and "--method" in str(raised.value)


def start_legacy_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, LEGACY_SERVER, "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    found = re.search(r"(http://\S+)", process.stdout.readline())
    assert found, "the example server did not print its URL"
    return process, found.group(1)


def test_up_with_legacy_serves_the_example_to_modern_and_legacy_clients(tmp_path: Path) -> None:
    """`up --legacy legacy.=URL`: XML-RPC reaches legacy.add; the example gRPC client prints the answers."""
    server, upstream = start_legacy_server()
    up = start_up(["--legacy", f"legacy.={upstream}"], tmp_path / "data")
    try:
        url, grpc_address = up.url, up.grpc_address
        assert xmlrpc_call(url, "legacy.add", 2, 3) == 5
        client = subprocess.run(
            [sys.executable, MODERN_CLIENT, grpc_address, "legacy."],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert client.stdout.splitlines() == ["legacy.add -> 42", "legacy.greet -> 'Hello, gRPC!'"]
        settings = Settings(data_dir=tmp_path / "data")
        wait_until(lambda: len(outgoing(settings, "add")) == 2 and outgoing(settings, "greet"))
        assert {row.peer for row in outgoing(settings, "add")} == {upstream}
        assert up.stop() == 0
    finally:
        up.stop()
        server.terminate()
        server.wait(30)
        assert server.stdout is not None
        server.stdout.close()
