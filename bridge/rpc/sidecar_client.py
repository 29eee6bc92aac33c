"""The frontend's way to its sidecars: an `Invoker` over one long-lived gRPC channel per sidecar.

Calls go round-robin to the sidecars that are up. A call that finds its sidecar unreachable marks
it down, and a background probe (gRPC health) brings it back once it says SERVING; a call that its
sidecar never received (streams.NOT_SENT) is sent to the next one, any other failure stands: the
call may have run. gRPC failures are translated here, the one adapter that meets them, into faults
through `bridge.faults.fault_for_status`; callers never see a grpc exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from typing import Final

import grpc
from grpc_health.v1 import health_pb2

from bridge import metadata
from bridge.calls import Call, CallContext, Outcome
from bridge.errors import Fault, Status
from bridge.faults import VALUE_NOT_REPRESENTABLE, fault, fault_for_status
from bridge.procedures import ProcedureInfo
from bridge.rpc.channels import open_channel
from bridge.rpc.descriptors import message_to_info
from bridge.rpc.status_codes import status_of
from bridge.rpc.streams import NOT_SENT, Answer, StreamInvoker
from bridge.rpc.values import call_to_request, response_to_outcome
from rpcbridge.v1 import worker_pb2

log = logging.getLogger("rpcbridge.frontend")

# How long /readyz waits for the sidecar before calling it unready.
READY_TIMEOUT = 1.0
# How often a sidecar marked down is asked whether it serves again.
PROBE_INTERVAL: Final = 0.5
HEALTH_CHECK_PATH: Final = "/grpc.health.v1.Health/Check"
SIDECAR_SERVICE: Final = "rpcbridge.v1.Worker"
# The statuses a call ends with when its sidecar's connection, rather than the call, failed.
_CONNECTION_LOST: Final = frozenset({Status.UNAVAILABLE, Status.INTERNAL, Status.UNKNOWN})


def context_metadata(context: CallContext) -> list[tuple[str, str]]:
    """The gRPC metadata that carries a call's context (request id, peer, trace, credentials)."""
    pairs = [(metadata.REQUEST_ID, context.request_id)]
    if context.peer:
        pairs.append((metadata.PEER, context.peer))
    if context.traceparent:
        pairs.append((metadata.TRACEPARENT, context.traceparent))
    if context.tracestate:
        pairs.append((metadata.TRACESTATE, context.tracestate))
    creds = context.credentials
    if creds is not None:
        pairs += [
            (metadata.AUTH_FORM, creds.form),
            (metadata.AUTH_USER, creds.username),
            (metadata.AUTH_NONCE, creds.nonce),
            (metadata.AUTH_TIMESTAMP, creds.timestamp),
            (metadata.AUTH_SIGNATURE, creds.signature),
            (metadata.AUTH_METHOD, creds.method),
            (metadata.AUTH_PATH, creds.path),
            (metadata.AUTH_BODY_SHA256, creds.body_sha256),
        ]
    pairs += list(context.extra.items())
    return pairs


def fault_from_rpc_error(exc: grpc.aio.AioRpcError) -> Fault:
    """The fault a client receives for a failed gRPC call."""
    return fault_for_status(status_of(exc), exc.details() or "")


class _Sidecar:
    """One sidecar: its channel, its call stream, and whether calls may go to it."""

    def __init__(self, target: str, stream: bool) -> None:
        self.target = target
        self.channel = open_channel(target)
        # Every call of every HTTP request shares one multiplexed stream (bridge.rpc.streams).
        self.invoker = StreamInvoker(self.channel, stream=stream)
        self.list = self.channel.unary_unary(
            "/rpcbridge.v1.Worker/ListProcedures",
            request_serializer=worker_pb2.ListProceduresRequest.SerializeToString,
            response_deserializer=worker_pb2.ListProceduresResponse.FromString,
        )
        self._health = self.channel.unary_unary(
            HEALTH_CHECK_PATH,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        self.up = True
        self._probe: asyncio.Task[None] | None = None

    def unreachable(self) -> bool:
        """True when the connection, not the call, failed: a sidecar answers UNAVAILABLE for
        an unreachable worker too, and that says nothing about the sidecar itself."""
        ready = self.channel.get_state() is grpc.ChannelConnectivity.READY
        return self.invoker.broken or not ready

    def mark_down(self, details: str) -> None:
        """Take the sidecar out of rotation until its health check says SERVING again."""
        if not self.up:
            return
        self.up = False
        log.warning("sidecar %s out of rotation: %s", self.target, details)
        self._probe = asyncio.create_task(self._probe_until_serving(), name=f"probe {self.target}")

    async def serving(self) -> bool:
        """True when the sidecar's gRPC health says SERVING for the Worker service."""
        request = health_pb2.HealthCheckRequest(service=SIDECAR_SERVICE)
        try:
            answer = await self._health(request, timeout=READY_TIMEOUT)
        except grpc.aio.AioRpcError:
            return False
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    async def _probe_until_serving(self) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL)
            if await self.serving():
                break
        self.up = True
        log.info("sidecar %s back in rotation", self.target)

    async def aclose(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        await self.invoker.aclose()
        await self.channel.close(None)


class SidecarClient:
    """`Invoker` backed by the `rpcbridge.v1.Worker` service of one or more sidecars."""

    def __init__(self, targets: Sequence[str] | str, stream: bool = True) -> None:
        names = (targets,) if isinstance(targets, str) else tuple(targets)
        if not names:
            raise ValueError("a frontend needs at least one sidecar")
        self._sidecars = [_Sidecar(target, stream) for target in names]
        self._turn = itertools.count()

    def _rotation(self) -> list[_Sidecar]:
        """The sidecars in the order this call tries them: those up first, from the next turn."""
        start = next(self._turn) % len(self._sidecars)
        turn = self._sidecars[start:] + self._sidecars[:start]
        # With none up the call still goes somewhere, and fails with a clear UNAVAILABLE fault.
        return [s for s in turn if s.up] or turn

    async def invoke(self, call: Call, context: CallContext) -> Outcome:
        """Run one call through a sidecar that is up."""
        try:
            request = call_to_request(call, context.api_version, context.protocol).SerializeToString()
        except (TypeError, ValueError) as exc:  # a value, or a name, protobuf cannot carry
            return fault(VALUE_NOT_REPRESENTABLE, data=str(exc))
        pairs = dict(context_metadata(context))
        answer: Answer = Status.UNAVAILABLE, "no sidecar"
        for sidecar in self._rotation():
            answer = await sidecar.invoker.invoke(request, pairs, context.timeout)
            if not isinstance(answer, tuple) or answer[0] not in _CONNECTION_LOST:
                break
            if not sidecar.unreachable():
                break
            sidecar.mark_down(f"{answer[0].name}: {answer[1]}")
            if not answer[1].startswith(NOT_SENT):
                # The sidecar may have run the call: never run it twice. gRPC reports a connection
                # cut mid-stream as INTERNAL or UNKNOWN at times; to the client it is one thing.
                answer = Status.UNAVAILABLE, "sidecar connection lost"
                break
        if isinstance(answer, tuple):
            return fault_for_status(*answer)
        return response_to_outcome(worker_pb2.InvokeResponse.FromString(answer))

    async def list_procedures(self, context: CallContext) -> list[ProcedureInfo] | Fault:
        """A sidecar's catalogue for the context's API version."""
        sidecar = self._rotation()[0]
        try:
            answer = await sidecar.list(
                worker_pb2.ListProceduresRequest(api_version=context.api_version),
                timeout=context.timeout,
                metadata=context_metadata(context),
            )
        except grpc.aio.AioRpcError as exc:
            return fault_from_rpc_error(exc)
        return [message_to_info(p) for p in answer.procedures]

    async def ready(self) -> bool:
        """True when a sidecar answers and routes at least one procedure."""
        for sidecar in self._rotation():
            try:
                answer = await sidecar.list(worker_pb2.ListProceduresRequest(), timeout=READY_TIMEOUT)
            except grpc.aio.AioRpcError:
                continue
            if answer.procedures:
                return True
        return False

    async def aclose(self) -> None:
        """Close every stream and channel."""
        await asyncio.gather(*(sidecar.aclose() for sidecar in self._sidecars))
