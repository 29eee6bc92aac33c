"""Falling back from InvokeStream to unary Invoke never costs a call and never runs one twice."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import grpc

from bridge.calls import Call, Success
from bridge.errors import Status
from bridge.rpc.channels import open_channel
from bridge.rpc.servers import start_server
from bridge.rpc.streams import StreamInvoker
from bridge.rpc.values import call_to_request, response_to_outcome, to_value
from rpcbridge.v1 import worker_pb2
from tests.integration.node_worker import node_worker

ECHO = call_to_request(Call("echo", ("x",))).SerializeToString()


def result_of(answer: bytes | tuple[Status, str]) -> Any:
    assert isinstance(answer, bytes), answer
    outcome = response_to_outcome(worker_pb2.InvokeResponse.FromString(answer))
    assert isinstance(outcome, Success), outcome
    return outcome.value


async def call_once(address: str, handlers: dict[str, Any]) -> tuple[bytes | tuple[Status, str], list[bytes]]:
    """Serve `handlers` plus a recording unary Invoke; one call through a fresh StreamInvoker."""
    unary_calls: list[bytes] = []

    async def invoke(request: bytes, context: Any) -> bytes:
        unary_calls.append(request)
        return worker_pb2.InvokeResponse(result=to_value("unary")).SerializeToString()

    methods = {"Invoke": grpc.unary_unary_rpc_method_handler(invoke), **handlers}
    generic = grpc.method_handlers_generic_handler("rpcbridge.v1.Worker", methods)
    running = await start_server(address, [generic], ["rpcbridge.v1.Worker"])
    channel = open_channel(running.address)
    invoker = StreamInvoker(channel)
    try:
        return await invoker.invoke(ECHO, {}, 5), unary_calls
    finally:
        await invoker.aclose()
        await channel.close(None)
        await running.stop(0)


async def test_stream_reported_internal_at_start_is_resent_unary_when_the_server_has_none() -> None:
    """The grpc-js race made certain: the first stream ends INTERNAL unread; there is no InvokeStream."""
    streams_opened = 0

    async def invoke_stream(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        nonlocal streams_opened
        streams_opened += 1
        # What gRPC core reports when a write races the server's immediate UNIMPLEMENTED.
        if streams_opened == 1:
            await context.abort(grpc.StatusCode.INTERNAL, "Internal error from Core")
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        yield b""  # pragma: no cover -- makes this a generator

    handlers = {"InvokeStream": grpc.stream_stream_rpc_method_handler(invoke_stream)}
    answer, unary_calls = await call_once("127.0.0.1:0", handlers)
    assert result_of(answer) == "unary"
    assert unary_calls == [ECHO]


async def test_stream_that_failed_after_reading_the_call_is_not_resent() -> None:
    """A server that has InvokeStream and fails after taking the call may have run it: no resend."""

    async def invoke_stream(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        async for _ in requests:
            await context.abort(grpc.StatusCode.INTERNAL, "crashed while running the call")
        yield b""  # pragma: no cover -- a stream that writes nothing ends OK

    handlers = {"InvokeStream": grpc.stream_stream_rpc_method_handler(invoke_stream)}
    answer, unary_calls = await call_once("127.0.0.1:0", handlers)
    assert answer == (Status.INTERNAL, "crashed while running the call")
    assert unary_calls == []


async def test_first_calls_to_a_grpc_js_worker_always_succeed() -> None:
    """A hundred fresh connections to the Node worker (unary only): every first call gets its answer."""
    secret = secrets.token_hex(16)
    with node_worker(secret) as address:
        for _ in range(100):
            channel = open_channel(address)
            # Connected first: the race under test is the stream's first write against the server's
            # UNIMPLEMENTED, not connection set-up on a busy machine.
            await asyncio.wait_for(channel.channel_ready(), 60)
            invoker = StreamInvoker(channel, [("rpcbridge-sidecar-proof", secret)])
            try:
                answers = await asyncio.gather(*(invoker.invoke(ECHO, {}, 10) for _ in range(3)))
            finally:
                await invoker.aclose()
                await channel.close(None)
            assert [result_of(answer) for answer in answers] == ["x", "x", "x"]
