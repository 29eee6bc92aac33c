"""The legacy adapter's worker in one process: discovery, descriptors, forwarding and its faults.

(Here rather than in a tests/unit/legacy/ of its own because the adapter is the client kit's main
user and shares its stub server.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bridge.calls import Call, Success
from bridge.client import HTTPStatusError, TransportError, XMLRPCPoint
from bridge.errors import ConfigError, Fault
from bridge.legacy import (
    LegacyWorker,
    UpstreamConfig,
    UpstreamMethod,
    build_adapter,
    discover,
    transport_fault,
)
from bridge.legacy.adapter import published_signature
from bridge.supervisor import parse_legacy
from tests.unit.client.conftest import ListSink
from tests.unit.client.stub_server import StubServer, xmlrpc_responder


def introspective(functions: dict[str, Any], signatures: dict[str, Any]) -> dict[str, Any]:
    """`functions` plus system.listMethods, methodHelp and methodSignature over them."""
    return {
        **functions,
        "system.listMethods": lambda: [
            *functions,
            "system.listMethods",
            "system.methodHelp",
            "system.methodSignature",
        ],
        "system.methodHelp": lambda name: functions[name].__doc__ or "",
        "system.methodSignature": lambda name: signatures.get(name, "signatures not supported"),
    }


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def refuse() -> None:
    raise Fault(42, "upstream says no", {"detail": 1})


def run(worker: LegacyWorker, procedure: str, *params: Any, named: dict[str, Any] | None = None) -> Any:
    outcome = asyncio.run(worker.run(Call(procedure, params, named)))
    return outcome.value if isinstance(outcome, Success) else outcome


@pytest.fixture
def upstream(stub: StubServer) -> str:
    signatures = {"add": [["int", "int", "int"]]}
    stub.respond = xmlrpc_responder(introspective({"add": add, "refuse": refuse, "rpc.odd": add}, signatures))
    return stub.url + "/RPC2"


def test_discovery_lists_methods_with_help_and_skips_reserved_names(upstream: str) -> None:
    """system.listMethods gives the names (system.* left out), methodHelp the help, methodSignature types."""
    with XMLRPCPoint(upstream) as point:
        methods = {method.name: method for method in discover(point)}
    assert set(methods) == {"add", "refuse"}
    assert methods["add"] == UpstreamMethod("add", "Add two integers.", (("int", "int", "int"),))
    assert methods["refuse"].signatures == ()  # "signatures not supported" is not a signature


def test_adapter_forwards_with_prefix_and_publishes_signatures(upstream: str) -> None:
    """Procedures are prefix + name; a usable upstream signature is shown, others take any arguments."""
    worker = build_adapter(UpstreamConfig(upstream, prefix="old."))
    try:
        described = {info.name: info for info in worker.describe()}
        assert set(described) == {"old.add", "old.refuse"}
        assert described["old.add"].returns == "int"
        assert [(p.name, p.type) for p in described["old.add"].params] == [("arg1", "int"), ("arg2", "int")]
        assert described["old.refuse"].variadic
        assert run(worker, "old.add", 2, 40) == 42
    finally:
        worker.close()


def test_upstream_fault_keeps_code_message_and_data(upstream: str) -> None:
    """An upstream fault is the caller's fault, unchanged."""
    worker = build_adapter(UpstreamConfig(upstream, methods=("refuse",)))
    try:
        assert run(worker, "refuse") == Fault(42, "upstream says no")
    finally:
        worker.close()


def test_unreachable_upstream_is_a_transport_fault(closed_port: int, sink: ListSink) -> None:
    """A refused connection becomes -32300 saying why, and an outgoing "error" record."""
    config = UpstreamConfig(f"http://127.0.0.1:{closed_port}/RPC2", methods=("ping",))
    worker = LegacyWorker(config, [UpstreamMethod("ping")], sink)
    try:
        result = run(worker, "ping")
    finally:
        worker.close()
    assert (result.code, result.message) == (-32300, "Transport error")
    assert result.data == "the upstream server did not answer: connection refused"
    assert [record.outcome for record in sink.records] == ["error"]


def test_named_arguments_are_refused_for_xmlrpc_upstreams(upstream: str) -> None:
    """XML-RPC has no named params: a by-name call is -32602, not a silent drop."""
    worker = build_adapter(UpstreamConfig(upstream, methods=("add",)))
    try:
        assert run(worker, "add", named={"a": 1, "b": 2}).code == -32602
    finally:
        worker.close()


def test_http_error_text_stays_out_of_the_fault() -> None:
    """An upstream's error page may hold its internals: the fault says only the HTTP status."""
    failure = transport_fault(HTTPStatusError("http://up/RPC2", 500, "Traceback: secret"))
    assert failure.data == "the upstream server did not answer: HTTP 500"
    assert "secret" not in str(transport_fault(TransportError("http://up/RPC2", "connection reset")))


def test_signatures_with_gaps_or_disagreements_are_not_published() -> None:
    """Signatures are shown only when they describe one procedure: one return type, one type per place."""
    assert published_signature([("int", "int"), ("int", "int", "int")]) is not None
    assert published_signature([("int",), ("int", "int", "int")]) is None  # arity 1 missing
    assert published_signature([("int", "int"), ("string", "int")]) is None
    assert published_signature([("int", "int", "int"), ("int", "string")]) is None


def test_upstream_without_list_methods_needs_names(stub: StubServer) -> None:
    """No system.listMethods and no names: a ConfigError saying to use --method."""
    stub.respond = xmlrpc_responder({"add": add})
    with pytest.raises(ConfigError, match="--method"):
        build_adapter(UpstreamConfig(stub.url))


def test_config_is_validated() -> None:
    """Bad protocols, schemes and half-given auth are start-up errors."""
    with pytest.raises(ConfigError):
        UpstreamConfig("http://127.0.0.1:1/", protocol="soap")
    with pytest.raises(ConfigError):
        UpstreamConfig("file:///etc/passwd")
    with pytest.raises(ConfigError):
        UpstreamConfig("http://127.0.0.1:1/", auth_user="alice")


def test_up_legacy_specs_split_prefix_and_url() -> None:
    """`[PREFIX=]URL`: an "=" after "://" belongs to the URL."""
    assert parse_legacy("old.=http://h:1/RPC2") == ("old.", "http://h:1/RPC2")
    assert parse_legacy("http://h:1/RPC2?a=b") == ("", "http://h:1/RPC2?a=b")
