"""The client kit against a real bridge: values, faults, auth through param_hook, batches, outgoing log."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from bridge.client import Fault, JSONRPCPoint, PickleClient, TransportError, XMLRPCPoint, auth_params
from bridge.rpc.outgoing_log import RECORD_PATH, record_to_message
from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.records import CallFilter, CallRecord
from bridge.testing import Deployment, deployment, wait_until
from rpcbridge.v1 import sidecar_pb2
from tests.integration.conftest import EXAMPLE_WORKER
from tests.integration.test_authentication import rpcbridge


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, str]]:
    """A deployment of the example worker with user alice; yields it and alice's API key."""
    scratch = tmp_path_factory.mktemp("client-kit")
    with deployment([EXAMPLE_WORKER], scratch=scratch) as running:
        yield running, rpcbridge(scratch / "data", "users", "add", "alice")


def calls(data_dir: Path, filters: CallFilter) -> list[CallRecord]:
    """Call-log rows matching `filters`, newest first."""

    async def query() -> list[CallRecord]:
        stores = await open_stores(Settings(data_dir=data_dir))
        try:
            return list((await stores.call_log.query(filters, limit=100, offset=0)).records)
        finally:
            await stores.close()

    return asyncio.run(query())


def test_xmlrpc_point_calls_the_bridge_with_every_type(secured: tuple[Deployment, str]) -> None:
    """XMLRPCPoint reaches echo and gets types.all back with i8, nil, base64 and dateTime intact."""
    bridge, _ = secured
    with XMLRPCPoint(bridge.url + "/rpc") as point:
        assert point.echo("hi") == "hi"
        values = point.types.all()
    assert values["i8"] == 2**40 and values["nil"] is None
    assert values["base64"] == b"\x00\x01binary"
    assert values["dateTime"] == datetime.datetime(2026, 11, 22, 9, 30, 15)


def test_xmlrpc_point_raises_the_procedures_fault(secured: tuple[Deployment, str]) -> None:
    """An application fault arrives as Fault with the worker's code and message."""
    bridge, _ = secured
    with XMLRPCPoint(bridge.url + "/rpc") as point, pytest.raises(Fault) as raised:
        point.math.divide(1, 0)
    assert (raised.value.code, raised.value.message) == (1, "division by zero")


def test_param_hook_authenticates_with_auth_params(secured: tuple[Deployment, str]) -> None:
    """`param_hook=lambda p: auth_params(u, k) + p` calls an auth procedure as that user, call after call."""
    bridge, key = secured
    with XMLRPCPoint(bridge.url + "/rpc", param_hook=lambda p: auth_params("alice", key) + p) as point:
        assert point.account.whoami() == "alice"
        assert point.account.whoami() == "alice"
    with XMLRPCPoint(bridge.url + "/rpc") as anonymous, pytest.raises(Fault) as raised:
        anonymous.account.whoami()
    assert raised.value.code == -32001


def test_jsonrpc_batch_returns_results_in_order(secured: tuple[Deployment, str]) -> None:
    """A JSON-RPC batch through the bridge returns results in call order, the fault in its place."""
    bridge, _ = secured
    with JSONRPCPoint(bridge.url + "/rpc") as point:
        with point.batch() as batch:
            batch.echo("a")
            batch.math.divide(1, 0)
            batch.notify("notify_hello", 7)
            batch.subtract(minuend=42, subtrahend=23)
        assert batch.results[0] == "a"
        assert isinstance(batch.results[1], Fault) and batch.results[1].code == 1
        assert batch.results[2] == 19
        assert point.math.add(2, 40) == 42


def test_transport_errors_differ_from_faults(secured: tuple[Deployment, str]) -> None:
    """A wrong path is an HTTP-level TransportError, not a Fault."""
    bridge, _ = secured
    with XMLRPCPoint(bridge.url + "/no-such-path") as point, pytest.raises(TransportError) as raised:
        point.echo("x")
    assert not isinstance(raised.value, Fault)


def test_outgoing_calls_appear_in_the_call_log_beside_incoming(secured: tuple[Deployment, str]) -> None:
    """With sidecar=..., each call is an outgoing row (auth redacted) with the incoming row's request id."""
    bridge, key = secured
    data_dir = bridge.scratch / "data"
    hook = lambda p: auth_params("alice", key) + p  # noqa: E731
    url, sidecar = bridge.url + "/rpc", bridge.grpc_address
    with XMLRPCPoint(url, param_hook=hook, sidecar=sidecar, log_arguments=True) as point:
        assert point.account.transfer(5, "1234") == {"by": "alice", "amount": 5}
        with XMLRPCPoint(url, sidecar=sidecar) as public, pytest.raises(Fault):
            public.math.divide(1, 0)
        wait_until(lambda: len(calls(data_dir, CallFilter(direction="outgoing"))) >= 2)
    out = {row.procedure: row for row in calls(data_dir, CallFilter(direction="outgoing"))}
    transfer = out["account.transfer"]
    assert (transfer.protocol, transfer.outcome, transfer.user, transfer.peer) == (
        "xmlrpc",
        "ok",
        "alice",
        bridge.url + "/rpc",
    )
    assert transfer.arguments is not None and key not in transfer.arguments
    assert transfer.arguments.startswith("['[redacted]', '[redacted]', '[redacted]', '[redacted]', 5")
    assert (out["math.divide"].outcome, out["math.divide"].fault_code) == ("fault", 1)
    wait_until(lambda: calls(data_dir, CallFilter(direction="incoming", request_id=transfer.request_id)))
    [incoming] = calls(data_dir, CallFilter(direction="incoming", request_id=transfer.request_id))
    assert (incoming.procedure, incoming.user) == ("account.transfer", "alice")


class DeliveredSink:
    """Sends each record to the sidecar and waits for its answer, so a test knows it has arrived."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._send = channel.unary_unary(
            RECORD_PATH,
            request_serializer=sidecar_pb2.RecordOutgoingCallsRequest.SerializeToString,
            response_deserializer=sidecar_pb2.RecordOutgoingCallsResponse.FromString,
        )

    def record(self, record: CallRecord) -> None:
        self._send(sidecar_pb2.RecordOutgoingCallsRequest(calls=[record_to_message(record)]), timeout=10)


def test_sidecar_with_log_outgoing_off_keeps_no_outgoing_rows(tmp_path: Path) -> None:
    """With log_outgoing=false the sidecar accepts records but keeps none; incoming calls are still logged."""
    with deployment([EXAMPLE_WORKER], env={"RPCBRIDGE_LOG_OUTGOING": "false"}, scratch=tmp_path) as bridge:
        with (
            grpc.insecure_channel(bridge.grpc_address) as channel,
            XMLRPCPoint(bridge.url + "/rpc", sidecar=DeliveredSink(channel)) as point,
        ):
            assert point.echo("first") == "first"
        # The writer keeps order: once a later incoming row is stored, an outgoing one would be too.
        with XMLRPCPoint(bridge.url + "/rpc") as point:
            point.echo("fence")
        wait_until(lambda: len(calls(tmp_path / "data", CallFilter(direction="incoming"))) == 2)
        assert calls(tmp_path / "data", CallFilter(direction="outgoing")) == []


def test_pickle_client_calls_the_bridge(tmp_path: Path) -> None:
    """PickleClient signs its requests and gets results and faults through the bridge's pickle endpoint."""
    with deployment([EXAMPLE_WORKER], env={"RPCBRIDGE_PICKLE_ENABLED": "true"}, scratch=tmp_path) as bridge:
        key = rpcbridge(tmp_path / "data", "users", "add", "alice")
        with PickleClient(bridge.url, "alice", key) as client:
            assert client.math.add(2, 40) == 42
            assert client.echo(var="hi") == "hi"
            assert client.call("types.all")["dateTime"] == datetime.datetime(2026, 11, 22, 9, 30, 15)
            with pytest.raises(Fault) as raised:
                client.math.divide(1, 0)
        assert raised.value.code == 1
