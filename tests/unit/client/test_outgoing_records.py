"""Outgoing-call records: one per call, with outcome, peer and sizes; arguments only on request."""

from __future__ import annotations

import pytest

from bridge.client import Fault, TransportError, XMLRPCPoint, auth_params
from bridge.store.records import CallRecord
from tests.unit.client.conftest import ListSink
from tests.unit.client.stub_server import StubServer, xmlrpc_responder


def fail() -> None:
    raise Fault(4, "too many parameters")


FUNCTIONS = {"echo": lambda *values: list(values), "fail": fail}


def test_successful_call_is_recorded_as_outgoing(stub: StubServer, sink: ListSink) -> None:
    """A call leaves one record: outgoing, xmlrpc, the procedure, the server's URL, ok, sizes and duration."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    with XMLRPCPoint(stub.url + "/rpc", sidecar=sink) as point:
        point.echo("hi")
    [record] = sink.records
    assert (record.direction, record.protocol, record.procedure, record.outcome) == (
        "outgoing",
        "xmlrpc",
        "echo",
        "ok",
    )
    assert record.peer == stub.url + "/rpc"
    assert record.request_id == stub.requests[0].headers["X-Request-Id"]
    assert record.request_bytes == len(stub.requests[0].body) and record.response_bytes > 0
    assert record.duration_ms >= 0 and record.at.tzinfo is not None
    assert record.arguments is None and record.result is None


def test_fault_is_recorded_with_its_code(stub: StubServer, sink: ListSink) -> None:
    """A fault answer is recorded with outcome "fault" and the fault's code."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    with XMLRPCPoint(stub.url, sidecar=sink) as point, pytest.raises(Fault):
        point.fail()
    [record] = sink.records
    assert (record.outcome, record.fault_code, record.status) == ("fault", 4, "")


def test_transport_error_is_recorded_with_its_text(closed_port: int, sink: ListSink) -> None:
    """A refused connection is recorded as "error" with the error in status, the URL without credentials."""
    url = f"http://u:secret@127.0.0.1:{closed_port}/x"
    with XMLRPCPoint(url, sidecar=sink) as point, pytest.raises(TransportError):
        point.echo()
    [record] = sink.records
    assert record.outcome == "error" and "connection refused" in record.status
    assert "secret" not in record.peer + record.status


def test_arguments_are_kept_only_when_asked_and_auth_params_redacted(
    stub: StubServer, sink: ListSink
) -> None:
    """log_arguments keeps arguments and result, the hook's four auth params redacted, the user named."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    hook = lambda params: auth_params("alice", "the-api-key") + params  # noqa: E731
    with XMLRPCPoint(stub.url, param_hook=hook, sidecar=sink, log_arguments=True) as point:
        point.echo("visible")
    [record] = sink.records
    assert record.arguments == "['[redacted]', '[redacted]', '[redacted]', '[redacted]', 'visible']"
    assert record.user == "alice"
    assert record.result is not None and "visible" in record.result


def test_hook_params_that_are_not_auth_params_are_shown(stub: StubServer, sink: ListSink) -> None:
    """A hook that adds ordinary params is not mistaken for auth: nothing is redacted, no user is set."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    hook = lambda params: ["a", "b", "c", "d", *params]  # noqa: E731
    with XMLRPCPoint(stub.url, param_hook=hook, sidecar=sink, log_arguments=True) as point:
        point.echo(1)
    [record] = sink.records
    assert record.arguments == "['a', 'b', 'c', 'd', 1]" and record.user == ""


class BrokenSink:
    """A sink whose every record fails."""

    def record(self, record: CallRecord) -> None:
        raise RuntimeError("sidecar gone")


def test_a_failing_sink_never_fails_the_call(stub: StubServer, caplog: pytest.LogCaptureFixture) -> None:
    """A record that cannot be taken is logged as a warning; the call still returns its result."""
    stub.respond = xmlrpc_responder(FUNCTIONS)
    with XMLRPCPoint(stub.url, sidecar=BrokenSink()) as point:
        assert point.echo(1) == [1]
    assert "could not record an outgoing call" in caplog.text
