"""The transport between the bridge's processes: many calls on one stream, each with its own fate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from bridge.calls import Call, Success
from bridge.errors import Status
from bridge.rpc.channels import open_channel
from bridge.rpc.servers import RunningServer, start_server
from bridge.rpc.streams import StreamInvoker
from bridge.rpc.values import call_to_request, response_to_outcome, to_value
from bridge.rpc.worker_server import start_worker_server
from bridge.targets import load_worker
from bridge.testing import deployment
from rpcbridge.v1 import worker_pb2
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc, xmlrpc_call

WORKER = load_worker(EXAMPLE_WORKER)


def request(procedure: str, *params: Any) -> bytes:
    return call_to_request(Call(procedure, params)).SerializeToString()


def value(answer: bytes | tuple[Status, str]) -> Any:
    assert isinstance(answer, bytes), answer
    outcome = response_to_outcome(worker_pb2.InvokeResponse.FromString(answer))
    assert isinstance(outcome, Success), outcome
    return outcome.value


@pytest.fixture
async def worker_server() -> AsyncIterator[RunningServer]:
    running = await start_worker_server(WORKER, "127.0.0.1:0", secret="s3cret-for-tests")
    yield running
    await running.stop(0)


@pytest.fixture
async def invoker(worker_server: RunningServer) -> AsyncIterator[StreamInvoker]:
    channel = open_channel(worker_server.address)
    streamed = StreamInvoker(channel, [("rpcbridge-sidecar-proof", "s3cret-for-tests")])
    yield streamed
    await streamed.aclose()
    await channel.close(None)


async def test_many_calls_in_flight_each_get_their_own_answer(invoker: StreamInvoker) -> None:
    """Hundreds of concurrent calls on one stream come back matched to the right caller."""
    answers = await asyncio.gather(*(invoker.invoke(request("math.add", i, i), {}, 10) for i in range(300)))
    assert [value(answer) for answer in answers] == [2 * i for i in range(300)]


async def test_a_late_call_misses_its_deadline_without_hurting_the_others(invoker: StreamInvoker) -> None:
    """A call past its own deadline gets DEADLINE_EXCEEDED; a call beside it on the stream succeeds."""
    slow = asyncio.create_task(invoker.invoke(request("slow.sleep", 5), {}, 0.3))
    fast = await invoker.invoke(request("echo", "beside"), {}, 10)
    assert value(fast) == "beside"
    assert (await slow)[0] is Status.DEADLINE_EXCEEDED


async def test_a_stream_without_the_proof_is_refused(worker_server: RunningServer) -> None:
    """A worker checks the sidecar's proof when a stream opens: without it nothing runs."""
    channel = open_channel(worker_server.address)
    streamed = StreamInvoker(channel)
    try:
        answer = await streamed.invoke(request("echo", "x"), {}, 5)
    finally:
        await streamed.aclose()
        await channel.close(None)
    assert isinstance(answer, tuple)
    assert answer[0] is Status.UNAUTHENTICATED


async def test_server_without_invoke_stream_is_called_unary() -> None:
    """A worker that implements only Invoke (as one in another language may) still gets every call."""
    seen: list[bytes] = []

    async def invoke(request_bytes: bytes, context: Any) -> bytes:
        seen.append(request_bytes)
        return worker_pb2.InvokeResponse(result=to_value("unary")).SerializeToString()

    handler = grpc.method_handlers_generic_handler(
        "rpcbridge.v1.Worker", {"Invoke": grpc.unary_unary_rpc_method_handler(invoke)}
    )
    running = await start_server("127.0.0.1:0", [handler], ["rpcbridge.v1.Worker"])
    channel = open_channel(running.address)
    streamed = StreamInvoker(channel)
    try:
        first = await streamed.invoke(request("echo", "a"), {}, 5)
        second = await streamed.invoke(request("echo", "b"), {}, 5)
    finally:
        await streamed.aclose()
        await channel.close(None)
        await running.stop(0)
    assert [value(first), value(second)] == ["unary", "unary"]
    assert len(seen) == 2


async def test_calls_in_flight_fail_when_the_server_goes_and_work_when_it_returns() -> None:
    """Losing the server fails waiting calls with UNAVAILABLE; the next call opens a new stream."""
    running = await start_worker_server(WORKER, "127.0.0.1:0")
    address = running.address
    channel = open_channel(address)
    streamed = StreamInvoker(channel)
    try:
        waiting = asyncio.create_task(streamed.invoke(request("slow.sleep", 5), {}, 10))
        assert value(await streamed.invoke(request("echo", "up"), {}, 5)) == "up"
        await running.stop(0)
        answer = await waiting
        assert isinstance(answer, tuple)
        assert answer[0] in (Status.UNAVAILABLE, Status.CANCELLED)
        running = await start_worker_server(WORKER, address)
        for _ in range(50):
            answer = await streamed.invoke(request("echo", "back"), {}, 5)
            if isinstance(answer, bytes):
                break
            await asyncio.sleep(0.1)
        assert value(answer) == "back"
    finally:
        await streamed.aclose()
        await channel.close(None)
        await running.stop(0)


def test_unary_transport_setting_still_serves_everything(tmp_path: Path) -> None:
    """With stream_calls = false every hop is a unary call, and the bridge behaves the same."""
    with deployment([EXAMPLE_WORKER], env={"RPCBRIDGE_STREAM_CALLS": "false"}, scratch=tmp_path) as bridge:
        url = bridge.url + "/rpc"
        assert xmlrpc_call(url, "echo", "unary") == "unary"
        _, answer = json_rpc(url, {"jsonrpc": "2.0", "method": "math.divide", "params": [1, 0], "id": 1})
        assert answer["error"] == {"code": 1, "message": "division by zero"}
        _, missing = json_rpc(url, {"jsonrpc": "2.0", "method": "no.such", "id": 2})
        assert missing["error"]["code"] == -32601
