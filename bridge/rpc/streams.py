"""Many calls on one long-lived gRPC stream, micro-batched: `rpcbridge.v1.Worker/InvokeStream`.

A unary grpc.aio call costs far more CPU than the work of a small procedure (docs/benchmarks.md),
so the bridge's own processes (frontend -> sidecar -> worker) carry calls on one bidirectional
stream per connection. Calls queued while a write is in flight go out together in the next
message, and results come back the same way, so the cost per call falls as load rises. Each call
keeps what a unary call has: its metadata, its deadline, and a gRPC status when it fails.

`StreamInvoker` is the sending end; `serve_invoke_stream` the receiving end. A server that does not
implement InvokeStream (a worker in another language may implement only Invoke) answers
UNIMPLEMENTED, and the invoker then uses unary Invoke for that connection from then on.

Falling back to unary never costs a call, and never runs one twice. The rule: a call that failed
with its stream is resent unary only when the server has no InvokeStream, for then nothing ran it.
UNIMPLEMENTED says so. But a write can race the server's immediate UNIMPLEMENTED (grpc-js answers
before reading), and gRPC core then reports INTERNAL instead; so when a stream that delivered no
result fails with INTERNAL, the invoker asks again on a stream that writes nothing (no race
possible) and resends only if that answer is UNIMPLEMENTED. Any other failure stands: the call
may have run, except when the stream never reached its server: that failure's details start with
NOT_SENT, and a caller with another server to try may send the call there (bridge.rpc.sidecar_client).
gRPC core also reports INTERNAL when the server dies under a stream (a worker SIGKILLed); when that
same probe finds the server unreachable, the calls fail UNAVAILABLE, which is what happened
(tests/integration/faults/).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

import grpc

from bridge.errors import Status
from bridge.rpc.status_codes import status_of
from rpcbridge.v1 import worker_pb2

STREAM_PATH: Final = "/rpcbridge.v1.Worker/InvokeStream"
INVOKE_PATH: Final = "/rpcbridge.v1.Worker/Invoke"
# A message carries calls up to about this size, well under the 16 MiB message limit.
BATCH_BYTES: Final = 4 << 20
# The sender waits this much past a call's deadline for the receiver's own deadline verdict.
DEADLINE_GRACE: Final = 0.5
# Bounds the empty stream that asks whether a server implements InvokeStream at all.
PROBE_SECONDS: Final = 5.0
# Starts the details of a failure that no server can have seen: the stream never connected.
NOT_SENT: Final = "not sent"

Answer = bytes | tuple[Status, str]
"""A serialized InvokeResponse, or the status (and details) that replaced it."""


def _take_batch(outbox: list[Any], size_of: Callable[[Any], int]) -> list[Any]:
    """Remove and return the longest prefix of `outbox` within BATCH_BYTES (at least one item)."""
    total = 0
    for index, item in enumerate(outbox):
        total += size_of(item)
        if total > BATCH_BYTES and index > 0:
            batch = outbox[:index]
            del outbox[:index]
            return batch
    batch = outbox[:]
    outbox.clear()
    return batch


class _Session:
    """One open InvokeStream and the calls waiting for its results."""

    def __init__(self, method: Any, metadata: Sequence[tuple[str, str]]) -> None:
        self.pending: dict[int, asyncio.Future[Answer]] = {}
        self.outbox: list[worker_pb2.StreamedCall] = []
        self.wake = asyncio.Event()
        self.failure: tuple[Status, str] | None = None
        self.delivered = False  # a result arrived: the server implements InvokeStream
        self.connected = False  # the stream reached a server: calls written may have run
        # "how does the server answer a stream that writes nothing?", asked once per failure
        self.probe: asyncio.Future[Status] | None = None
        self._call = method(metadata=metadata)
        self._tasks = [asyncio.create_task(self._write_loop()), asyncio.create_task(self._read_loop())]

    @property
    def open(self) -> bool:
        return self.failure is None

    def send(self, call: worker_pb2.StreamedCall) -> asyncio.Future[Answer]:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.pending[call.id] = future
        self.outbox.append(call)
        self.wake.set()
        return future

    async def _write_loop(self) -> None:
        try:
            await self._call.wait_for_connection()
            self.connected = True
            while True:
                await self.wake.wait()
                # One turn of the loop for every call that is ready now to join this message:
                # the gRPC write, not the call, is the cost (coalescing per loop turn).
                await asyncio.sleep(0)
                self.wake.clear()
                while self.outbox:
                    batch = _take_batch(self.outbox, lambda call: len(call.request) + 64)
                    await self._call.write(worker_pb2.InvokeStreamRequest(calls=batch))
        except grpc.aio.AioRpcError as exc:
            self._fail(status_of(exc), exc.details() or "")
        except asyncio.InvalidStateError:  # the stream ended while a write was queued
            self._fail(Status.UNAVAILABLE, "stream closed")

    async def _read_loop(self) -> None:
        status, details = Status.UNAVAILABLE, "stream closed by the server"
        try:
            async for message in self._call:
                self.delivered = True
                for result in message.results:
                    future = self.pending.pop(result.id, None)
                    if future is not None and not future.done():
                        ok = result.status == Status.OK
                        future.set_result(result.response if ok else (Status(result.status), result.details))
        except grpc.aio.AioRpcError as exc:
            status, details = status_of(exc), exc.details() or ""
        self._fail(status, details)

    def _fail(self, status: Status, details: str) -> None:
        """End the session: every call still waiting gets `status`."""
        if self.failure is None:
            self.failure = (status, details)
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_result(self.failure)
        self._call.cancel()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()

    async def aclose(self) -> None:
        self._fail(Status.CANCELLED, "closing")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class StreamInvoker:
    """Sends serialized InvokeRequests to one server over a multiplexed InvokeStream.

    Args:
        metadata: sent when a stream opens (and with each unary fallback call), e.g. the
            sidecar's proof for workers; per-call metadata goes with each call.
        stream: False sends every call as a unary Invoke (setting `stream_calls`), for servers
            behind proxies that do not keep streams open, and for measuring what streams save.
    """

    def __init__(
        self, channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]] = (), stream: bool = True
    ) -> None:
        self._method = channel.stream_stream(
            STREAM_PATH,
            request_serializer=worker_pb2.InvokeStreamRequest.SerializeToString,
            response_deserializer=worker_pb2.InvokeStreamResponse.FromString,
        )
        self._unary = channel.unary_unary(INVOKE_PATH, None, None)
        self._metadata = tuple(metadata)
        self._ids = itertools.count(1)
        self._session: _Session | None = None
        self._unary_only = not stream

    async def invoke(self, request: bytes, metadata: Mapping[str, str], deadline: float | None) -> Answer:
        """Run one call within `deadline` seconds (None: no deadline).

        Returns its serialized InvokeResponse, or the status that replaced it.
        """
        if self._unary_only:
            return await self._invoke_unary(request, metadata, deadline)
        if self._session is None or not self._session.open:
            self._session = _Session(self._method, self._metadata)
        session = self._session
        call_id = next(self._ids)
        call = worker_pb2.StreamedCall(
            id=call_id, request=request, metadata=metadata, timeout_seconds=deadline or 0.0
        )
        future = session.send(call)
        try:
            # asyncio.timeout, not wait_for: no extra future and callbacks per call.
            async with asyncio.timeout(None if deadline is None else deadline + DEADLINE_GRACE):
                answer = await future
        except TimeoutError:
            return Status.DEADLINE_EXCEEDED, "deadline exceeded"
        finally:
            session.pending.pop(call_id, None)
        if answer is not session.failure:
            return answer
        probed = await self._probe_after(session)
        if probed is Status.UNIMPLEMENTED:
            # The server has no InvokeStream, so nothing ran this call: call it the unary way
            # from now on (the rule is in the module docstring).
            self._unary_only = True
            return await self._invoke_unary(request, metadata, deadline)
        if probed is Status.UNAVAILABLE:
            return Status.UNAVAILABLE, "the server went away during the call"
        if answer[0] is Status.UNAVAILABLE and not session.connected:
            # No call was written: writes wait for the stream to connect (module docstring).
            return Status.UNAVAILABLE, f"{NOT_SENT}: {answer[1]}"
        return answer

    @property
    def broken(self) -> bool:
        """True when the last stream opened has failed (until the next call opens another)."""
        return self._session is not None and not self._session.open

    async def _probe_after(self, session: _Session) -> Status | None:
        """What the failure of `session` means: UNIMPLEMENTED (no InvokeStream), UNAVAILABLE (the
        server is gone), or None (the failure stands as it is)."""
        assert session.failure is not None
        status = session.failure[0]
        if status is Status.UNIMPLEMENTED:
            return Status.UNIMPLEMENTED
        if status is not Status.INTERNAL:
            return None
        if session.probe is None:  # the calls that failed together share one question
            session.probe = asyncio.ensure_future(self._probe_stream())
        probed = await asyncio.shield(session.probe)
        if probed is Status.UNIMPLEMENTED and session.delivered:
            return None  # this stream worked: its failure is not a missing method
        return probed if probed in (Status.UNIMPLEMENTED, Status.UNAVAILABLE) else None

    async def _probe_stream(self) -> Status:
        """Open an InvokeStream that writes nothing; the status the server ends it with."""
        method: Any = self._method  # the stubs know only the form handed a request iterator
        call = method(metadata=self._metadata, timeout=PROBE_SECONDS)
        try:
            # The half-close may itself race the server's answer; the status is what counts.
            with contextlib.suppress(Exception):
                await call.done_writing()
            code: grpc.StatusCode = await call.code()
            return Status(code.value[0])
        finally:
            call.cancel()

    async def _invoke_unary(
        self, request: bytes, metadata: Mapping[str, str], deadline: float | None
    ) -> Answer:
        try:
            response: bytes = await self._unary(
                request, timeout=deadline, metadata=[*self._metadata, *metadata.items()]
            )
        except grpc.aio.AioRpcError as exc:
            return status_of(exc), exc.details() or ""
        return response

    async def aclose(self) -> None:
        """Close the open stream, failing the calls still waiting with CANCELLED."""
        if self._session is not None:
            await self._session.aclose()


Handler = Callable[[worker_pb2.StreamedCall], Awaitable[worker_pb2.StreamedResult]]


async def _bounded(handler: Handler, call: worker_pb2.StreamedCall) -> worker_pb2.StreamedResult:
    """Run `handler` within the call's deadline; a late call ends with DEADLINE_EXCEEDED."""
    if call.timeout_seconds <= 0:
        return await handler(call)
    try:
        # asyncio.timeout, not wait_for, which would wrap each call in a task of its own.
        async with asyncio.timeout(call.timeout_seconds):
            return await handler(call)
    except TimeoutError:
        return worker_pb2.StreamedResult(
            id=call.id, status=Status.DEADLINE_EXCEEDED, details="deadline exceeded"
        )


async def serve_invoke_stream(
    requests: AsyncIterator[worker_pb2.InvokeStreamRequest], handler: Handler
) -> AsyncIterator[worker_pb2.InvokeStreamResponse]:
    """The receiving end: run each call as it arrives, send results back in batches as they finish."""
    finished: list[worker_pb2.StreamedResult] = []
    wake = asyncio.Event()
    running: set[asyncio.Task[None]] = set()

    async def run(call: worker_pb2.StreamedCall) -> None:
        finished.append(await _bounded(handler, call))
        wake.set()

    async def read() -> None:
        async for message in requests:
            for call in message.calls:
                task = asyncio.create_task(run(call))
                running.add(task)
                task.add_done_callback(running.discard)
        wake.set()

    reader = asyncio.create_task(read())
    try:
        while not (reader.done() and not running and not finished):
            await wake.wait()
            await asyncio.sleep(0)  # let every call finishing in this loop turn join the message
            wake.clear()
            while finished:
                yield worker_pb2.InvokeStreamResponse(
                    results=_take_batch(finished, lambda r: len(r.response) + 32)
                )
        reader.result()  # re-raise what ended the reading, if anything did
    finally:
        reader.cancel()
        for task in list(running):
            task.cancel()
