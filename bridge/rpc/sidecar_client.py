"""The frontend's way to the sidecar: an `Invoker` over one long-lived gRPC channel.

gRPC failures are translated here, the one adapter that meets them, into faults through
`bridge.faults.fault_for_status`; callers never see a grpc exception.
"""

from __future__ import annotations

import logging

import grpc

from bridge import metadata
from bridge.calls import Call, CallContext, Outcome
from bridge.errors import Fault
from bridge.faults import VALUE_NOT_REPRESENTABLE, fault, fault_for_status
from bridge.procedures import ProcedureInfo
from bridge.rpc.channels import open_channel
from bridge.rpc.descriptors import message_to_info
from bridge.rpc.status_codes import status_of
from bridge.rpc.streams import StreamInvoker
from bridge.rpc.values import call_to_request, response_to_outcome
from rpcbridge.v1 import worker_pb2

log = logging.getLogger("rpcbridge.frontend")

# How long /readyz waits for the sidecar before calling it unready.
READY_TIMEOUT = 1.0


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


class SidecarClient:
    """`Invoker` backed by the sidecar's `rpcbridge.v1.Worker` service."""

    def __init__(self, target: str, stream: bool = True) -> None:
        self._channel = open_channel(target)
        # Every call of every HTTP request shares one multiplexed stream (bridge.rpc.streams).
        self._invoker = StreamInvoker(self._channel, stream=stream)
        self._list = self._channel.unary_unary(
            "/rpcbridge.v1.Worker/ListProcedures",
            request_serializer=worker_pb2.ListProceduresRequest.SerializeToString,
            response_deserializer=worker_pb2.ListProceduresResponse.FromString,
        )

    async def invoke(self, call: Call, context: CallContext) -> Outcome:
        """Run one call through the sidecar."""
        try:
            request = call_to_request(call, context.api_version, context.protocol).SerializeToString()
        except (TypeError, ValueError) as exc:  # a value, or a name, protobuf cannot carry
            return fault(VALUE_NOT_REPRESENTABLE, data=str(exc))
        answer = await self._invoker.invoke(request, dict(context_metadata(context)), context.timeout)
        if isinstance(answer, tuple):
            return fault_for_status(*answer)
        return response_to_outcome(worker_pb2.InvokeResponse.FromString(answer))

    async def list_procedures(self, context: CallContext) -> list[ProcedureInfo] | Fault:
        """The sidecar's catalogue for the context's API version."""
        try:
            answer = await self._list(
                worker_pb2.ListProceduresRequest(api_version=context.api_version),
                timeout=context.timeout,
                metadata=context_metadata(context),
            )
        except grpc.aio.AioRpcError as exc:
            return fault_from_rpc_error(exc)
        return [message_to_info(p) for p in answer.procedures]

    async def ready(self) -> bool:
        """True when the sidecar answers and routes at least one procedure."""
        try:
            answer = await self._list(worker_pb2.ListProceduresRequest(), timeout=READY_TIMEOUT)
        except grpc.aio.AioRpcError:
            return False
        return len(answer.procedures) > 0

    async def aclose(self) -> None:
        """Close the stream and the channel."""
        await self._invoker.aclose()
        await self._channel.close(None)
