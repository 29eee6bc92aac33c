"""The client kit's HTTP transport: connection reuse, one reconnect, timeouts, refused connections."""

from __future__ import annotations

import pytest

from bridge.client import TransportError, TransportTimeout, XMLRPCPoint
from tests.unit.client.stub_server import Answer, StubServer, xmlrpc_responder

ECHO = {"echo": lambda *values: list(values)}


def test_calls_reuse_one_connection(stub: StubServer) -> None:
    """Three calls on one point open one TCP connection (HTTP/1.1 keep-alive)."""
    stub.respond = xmlrpc_responder(ECHO)
    with XMLRPCPoint(stub.url) as point:
        assert [point.echo(n) for n in range(3)] == [[0], [1], [2]]
    assert stub.connections == 1


def test_a_keep_alive_connection_the_server_dropped_is_reopened_once(stub: StubServer) -> None:
    """When the server closed the idle connection, the next call is sent again on a new one and succeeds."""
    stub.respond = xmlrpc_responder(ECHO)
    stub.drop_idle = True
    with XMLRPCPoint(stub.url) as point:
        assert point.echo("first") == ["first"]
        assert point.echo("second") == ["second"]
    assert stub.connections == 2
    assert len(stub.requests) == 2


def test_a_fresh_connection_closed_without_answer_is_not_retried(hang_up: tuple[int, list[int]]) -> None:
    """A new connection that closes before answering is a TransportError after one attempt."""
    port, accepted = hang_up
    with (
        XMLRPCPoint(f"http://127.0.0.1:{port}/RPC2", timeout=10) as point,
        pytest.raises(TransportError) as raised,
    ):
        point.echo()
    assert "without answering" in raised.value.reason or "reset" in raised.value.reason
    assert accepted == [1]


def test_connection_refused_is_a_transport_error_with_url_and_cause(closed_port: int) -> None:
    """A closed port raises TransportError naming the URL (no credentials) and chaining the OSError."""
    url = f"http://user:pw@127.0.0.1:{closed_port}/rpc"
    with XMLRPCPoint(url) as point, pytest.raises(TransportError) as raised:
        point.echo()
    assert raised.value.reason == "connection refused"
    assert raised.value.url == f"http://127.0.0.1:{closed_port}/rpc"
    assert "pw" not in str(raised.value)
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


def test_server_that_never_answers_times_out(silent_port: int) -> None:
    """A server that accepts but never answers raises TransportTimeout after the point's timeout."""
    with XMLRPCPoint(f"http://127.0.0.1:{silent_port}/rpc", timeout=0.3) as point:
        with pytest.raises(TransportTimeout) as raised:
            point.echo()
        assert isinstance(raised.value.__cause__, TimeoutError)
        assert "0.3 s" in raised.value.reason


def test_point_works_again_after_a_transport_error(stub: StubServer) -> None:
    """After a failed call the next one opens a new connection and succeeds."""
    stub.respond = lambda _: Answer(200, "text/xml", b"<methodResponse>")
    with XMLRPCPoint(stub.url) as point:
        with pytest.raises(TransportError):
            point.echo()
        stub.respond = xmlrpc_responder(ECHO)
        assert point.echo(1) == [1]


def test_reply_over_the_limit_is_refused(stub: StubServer) -> None:
    """A reply larger than max_reply_bytes is a TransportError, not read into memory whole."""
    stub.respond = xmlrpc_responder({"big": lambda: "x" * 10_000})
    with XMLRPCPoint(stub.url, max_reply_bytes=1000) as point, pytest.raises(TransportError) as raised:
        point.big()
    assert "limit of 1000 bytes" in raised.value.reason


def test_timeout_must_be_positive() -> None:
    """A zero or negative timeout is refused when the point is made."""
    with pytest.raises(ValueError, match="timeout"):
        XMLRPCPoint("http://127.0.0.1:1/rpc", timeout=0)
