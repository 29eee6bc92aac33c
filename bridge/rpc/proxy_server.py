"""The gRPC face of a bytes-level `rpcbridge.v1.Worker` proxy: the sidecar's server, without its logic.

Knows nothing of the sidecar (it must not import `bridge.sidecar`): each call goes to a
`ProxyHandler` as bytes and metadata, and its `ProxyReply` goes back as bytes or a gRPC status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

import grpc

from bridge import metadata
from bridge.errors import Status
from bridge.procedures import ProcedureInfo
from bridge.rpc.descriptors import info_to_message
from bridge.rpc.outgoing_log import SERVICE_NAME as OUTGOING_SERVICE_NAME
from bridge.rpc.outgoing_log import outgoing_calls_handler
from bridge.rpc.realtime_server import SERVICE_NAME as REALTIME_SERVICE_NAME
from bridge.rpc.realtime_server import RealtimeHandler, realtime_handler
from bridge.rpc.servers import WORKER_SERVICE, RunningServer, start_server, worker_service_handler
from bridge.rpc.status_codes import grpc_code
from bridge.rpc.streams import serve_invoke_stream
from bridge.store.records import CallRecord
from rpcbridge.v1 import worker_pb2


class ProxyReply(Protocol):
    """A handled call: the worker's serialized InvokeResponse, or the status that replaced it."""

    @property
    def response(self) -> bytes:
        """The serialized InvokeResponse (empty unless `status` is OK)."""
        ...

    @property
    def status(self) -> Status:
        """OK, or the status that ends the call."""
        ...

    @property
    def details(self) -> str:
        """Why the call failed, for the status's details."""
        ...


class ProxyHandler(Protocol):
    """What the proxy server hands its calls to (the sidecar's dispatcher)."""

    async def invoke(
        self, request: bytes, received: Mapping[str, str], peer: str, remaining: float | None
    ) -> tuple[ProxyReply, str]:
        """Handle one serialized InvokeRequest; the reply and the call's request id.

        Args:
            received: the call's metadata; `remaining`: seconds left before its deadline, if any.
        """
        ...

    def list_procedures(self, api_version: int) -> Sequence[ProcedureInfo]:
        """Every routable procedure, filtered by API version (0: all)."""
        ...


class _ProxyServicer:
    """Adapts a `ProxyHandler` to grpc's method handlers (unary Invoke, InvokeStream, ListProcedures)."""

    def __init__(self, handler: ProxyHandler) -> None:
        self._handler = handler

    async def invoke(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        """One unary call (gRPC clients, and frontends with `stream_calls` off)."""
        received = metadata.as_dict(context.invocation_metadata())
        reply, request_id = await self._handler.invoke(
            request, received, context.peer(), context.time_remaining()
        )
        if reply.status is not Status.OK:
            context.set_trailing_metadata(((metadata.REQUEST_ID, request_id),))
            await context.abort(grpc_code(reply.status), reply.details)
        return reply.response

    async def invoke_stream(
        self,
        requests: AsyncIterator[worker_pb2.InvokeStreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[worker_pb2.InvokeStreamResponse]:
        """The calls of one InvokeStream (the frontend's), each handled as it arrives."""
        peer = context.peer()

        async def handle(streamed: worker_pb2.StreamedCall) -> worker_pb2.StreamedResult:
            remaining = streamed.timeout_seconds or None
            reply, _ = await self._handler.invoke(streamed.request, streamed.metadata, peer, remaining)
            return worker_pb2.StreamedResult(
                id=streamed.id, response=reply.response, status=reply.status, details=reply.details
            )

        async for response in serve_invoke_stream(requests, handle):
            yield response

    async def list_procedures(
        self, request: worker_pb2.ListProceduresRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> worker_pb2.ListProceduresResponse:
        """The handler's catalogue for the requested API version."""
        infos = self._handler.list_procedures(request.api_version)
        return worker_pb2.ListProceduresResponse(procedures=[info_to_message(i) for i in infos])


async def serve_proxy(
    handler: ProxyHandler,
    listen: str,
    record_outgoing: Callable[[CallRecord], None],
    realtime: RealtimeHandler | None = None,
) -> RunningServer:
    """Start the proxy's gRPC server on `listen` (port 0 = kernel-chosen).

    Args:
        record_outgoing: where records of outgoing calls, sent by client kits and legacy
            adapters through `rpcbridge.v1.Sidecar`, go (the call-log writer).
        realtime: serves `rpcbridge.v1.Realtime` for the frontends' WebSockets, when given.
    """
    servicer = _ProxyServicer(handler)
    # Bytes in, bytes out: no per-service stubs on the proxy path.
    generic = worker_service_handler(
        servicer.invoke, servicer.invoke_stream, servicer.list_procedures, invoke_as_bytes=True
    )
    handlers = [generic, outgoing_calls_handler(record_outgoing)]
    names = [WORKER_SERVICE, OUTGOING_SERVICE_NAME]
    if realtime is not None:
        handlers.append(realtime_handler(realtime))
        names.append(REALTIME_SERVICE_NAME)
    return await start_server(listen, handlers, names, reflection=True)
