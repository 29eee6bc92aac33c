"""JSONRPCPoint against a stub server: calls by position and name, notifications, batches, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.client import Fault, HTTPStatusError, InvalidReply, JSONRPCPoint
from bridge.faults import VALUE_NOT_REPRESENTABLE
from tests.unit.client.conftest import ListSink
from tests.unit.client.stub_server import Answer, StubServer, jsonrpc_responder


def divide(a: float, b: float) -> float:
    if b == 0:
        raise Fault(1, "division by zero", {"a": a})
    return a / b


FUNCTIONS: dict[str, Any] = {
    "echo": lambda *values: list(values),
    "subtract": lambda minuend, subtrahend: minuend - subtrahend,
    "math.divide": divide,
    "log": lambda *values: None,
}


@pytest.fixture
def point(stub: StubServer) -> Iterator[JSONRPCPoint]:
    stub.respond = jsonrpc_responder(FUNCTIONS)
    with JSONRPCPoint(stub.url + "/rpc") as point:
        yield point


def sent(stub: StubServer, index: int = -1) -> Any:
    return json.loads(stub.requests[index].body)


def test_positional_and_named_params(point: JSONRPCPoint, stub: StubServer) -> None:
    """Positional args go as an array, keywords as an object (section 4.2)."""
    assert point.subtract(42, 23) == 19
    assert sent(stub)["params"] == [42, 23]
    assert point.subtract(subtrahend=23, minuend=42) == 19
    assert sent(stub)["params"] == {"subtrahend": 23, "minuend": 42}


def test_big_ints_survive(point: JSONRPCPoint) -> None:
    """Integers of any size come back exact (JSON numbers without a fraction are ints)."""
    assert point.echo(2**100, -(2**70)) == [2**100, -(2**70)]


def test_mixing_positional_and_named_is_a_type_error(point: JSONRPCPoint) -> None:
    """JSON-RPC cannot send both at once; the point says so instead of dropping one."""
    with pytest.raises(TypeError):
        point.subtract(42, subtrahend=23)


def test_error_object_becomes_fault_with_data(point: JSONRPCPoint) -> None:
    """An error reply raises Fault with its code, message and data."""
    with pytest.raises(Fault) as raised:
        point.math.divide(1, 0)
    assert (raised.value.code, raised.value.message, raised.value.data) == (1, "division by zero", {"a": 1})


def test_bytes_are_refused_before_sending(point: JSONRPCPoint, stub: StubServer) -> None:
    """JSON has no bytes: Fault(-32007) and no request."""
    with pytest.raises(Fault) as raised:
        point.echo(b"raw")
    assert raised.value.code == VALUE_NOT_REPRESENTABLE and stub.requests == []


def test_notification_has_no_id_and_returns_none(point: JSONRPCPoint, stub: StubServer) -> None:
    """notify() sends a request without "id" (section 4.1); the server's 204 is success."""
    assert point.notify("log", "hello") is None
    assert "id" not in sent(stub)


def test_batch_results_in_order_with_faults_in_place(point: JSONRPCPoint, stub: StubServer) -> None:
    """A batch is one HTTP request; results come back in call order, a failed member's Fault in its place."""
    batch = point.batch()
    batch.echo("a")
    batch.math.divide(1, 0)
    batch.notify("log", "not in the results")
    batch.subtract(minuend=5, subtrahend=3)
    results = batch.send()
    assert results[0] == ["a"]
    assert isinstance(results[1], Fault) and results[1].code == 1
    assert results[2] == 2
    assert len(stub.requests) == 1 and len(sent(stub)) == 4


def test_batch_as_context_manager(point: JSONRPCPoint) -> None:
    """`with point.batch() as batch:` sends when the block ends; results are then on the batch."""
    with point.batch() as batch:
        batch.echo(1)
        batch.echo(2)
    assert batch.results == [[1], [2]]


def test_batch_of_notifications_only_has_no_results(point: JSONRPCPoint, stub: StubServer) -> None:
    """Only notifications: the server answers nothing (section 6), and the results are empty."""
    batch = point.batch()
    batch.notify("log", 1)
    batch.notify("log", 2)
    assert batch.send() == [] and len(stub.requests) == 1


def test_batch_answered_with_one_error_raises_it(stub: StubServer) -> None:
    """A server that answers the whole batch with one error object (id null) raises that Fault."""
    body = b'{"jsonrpc":"2.0","error":{"code":-32006,"message":"Request too large"},"id":null}'
    stub.respond = lambda _: Answer(200, "application/json", body)
    with JSONRPCPoint(stub.url) as point:
        batch = point.batch()
        batch.echo(1)
        with pytest.raises(Fault) as raised:
            batch.send()
    assert raised.value.code == -32006


def test_batch_member_without_reply_is_an_invalid_reply(stub: StubServer) -> None:
    """A batch reply that leaves out one of the calls is an InvalidReply, not a silent gap."""
    stub.respond = lambda _: Answer(200, "application/json", b'[{"jsonrpc":"2.0","result":1,"id":1}]')
    with JSONRPCPoint(stub.url) as point:
        batch = point.batch()
        batch.echo(1)
        batch.echo(2)
        with pytest.raises(InvalidReply):
            batch.send()


def test_batch_records_one_row_per_member(stub: StubServer, sink: ListSink) -> None:
    """Each member of a batch is one outgoing record, all with the batch's request id."""
    stub.respond = jsonrpc_responder(FUNCTIONS)
    with JSONRPCPoint(stub.url, sidecar=sink) as point:
        batch = point.batch()
        batch.echo(1)
        batch.math.divide(1, 0)
        batch.send()
    assert [(r.procedure, r.outcome, r.fault_code) for r in sink.records] == [
        ("echo", "ok", None),
        ("math.divide", "fault", 1),
    ]
    assert {r.request_id for r in sink.records} == {stub.requests[0].headers["X-Request-Id"]}


def test_error_status_with_error_object_is_a_fault(stub: StubServer) -> None:
    """Servers that send the error object with HTTP 500 still produce the Fault."""
    body = b'{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}'
    stub.respond = lambda _: Answer(500, "application/json", body)
    with JSONRPCPoint(stub.url) as point, pytest.raises(Fault) as raised:
        point.echo()
    assert raised.value.code == -32603


def test_error_status_with_text_is_an_http_status_error(stub: StubServer) -> None:
    """A 502 from a proxy, with a text body, is an HTTPStatusError."""
    stub.respond = lambda _: Answer(502, "text/plain", b"Bad Gateway")
    with JSONRPCPoint(stub.url) as point, pytest.raises(HTTPStatusError) as raised:
        point.echo()
    assert raised.value.status == 502


def test_param_hook_prepends_to_positional_params(stub: StubServer) -> None:
    """param_hook adds params before the call's own; with keywords it refuses rather than skip the hook."""
    stub.respond = jsonrpc_responder(FUNCTIONS)
    with JSONRPCPoint(stub.url, param_hook=lambda p: ["token", *p]) as point:
        assert point.echo("x") == ["token", "x"]
        with pytest.raises(TypeError):
            point.subtract(minuend=1, subtrahend=1)
