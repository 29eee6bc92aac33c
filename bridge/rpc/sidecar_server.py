"""The sidecar's gRPC face: `rpcbridge.v1.Worker` for the frontend and gRPC clients, proxied to workers.

`Invoke` is handled at the bytes level: the request's procedure and version are read from the
wire (bridge.sidecar.wire), the call passes the interceptor chain once, and the worker's reply
bytes go back untouched. Routing failures are gRPC statuses (NOT_FOUND, UNAVAILABLE).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import grpc

from bridge import metadata
from bridge.errors import Status
from bridge.rpc.descriptors import info_to_message
from bridge.rpc.outgoing_log import SERVICE_NAME as OUTGOING_SERVICE_NAME
from bridge.rpc.outgoing_log import outgoing_calls_handler
from bridge.rpc.servers import WORKER_SERVICE, RunningServer, start_server, worker_service_handler
from bridge.rpc.streams import serve_invoke_stream
from bridge.rpc.worker_pool import WorkerPool
from bridge.sidecar.catalogue import RouteFailure
from bridge.sidecar.interception import Interceptor, Proceed, ProxiedCall, ProxyReply, chain
from bridge.sidecar.wire import WireError, read_request_head
from bridge.store.records import CallRecord
from rpcbridge.v1 import worker_pb2

# Metadata a client may send that the sidecar passes on to the worker.
_FORWARDED = (metadata.REQUEST_ID,)


def forward_to_worker(pool: WorkerPool) -> Proceed:
    """The terminal handler: route a call to a worker and invoke it there, bytes in and bytes out.

    The interceptor chain ends here; the background job runner calls it directly, so a job's run
    passes no interceptor a second time.
    """

    async def forward(call: ProxiedCall) -> ProxyReply:
        route = pool.catalogue.route(call.procedure, call.api_version)
        if isinstance(route, RouteFailure):
            return ProxyReply.failure(route.status, route.detail)
        extra = [(key, call.metadata[key]) for key in _FORWARDED if key in call.metadata]
        extra += list(call.forward_metadata.items())
        if call.caller is not None:
            extra.append((metadata.CALLER, call.caller))
        answer = await pool.invoke(route, call.request, extra, call.timeout)
        if isinstance(answer, bytes):
            return ProxyReply(answer)
        return ProxyReply.failure(*answer)

    return forward


class SidecarService:
    """Routes each call to a worker through the interceptor chain."""

    def __init__(self, pool: WorkerPool, interceptors: Sequence[Interceptor], max_timeout: float) -> None:
        self._pool = pool
        self._max_timeout = max_timeout
        self._handle = chain(interceptors, forward_to_worker(pool))

    async def _serve(
        self, request: bytes, received: Mapping[str, str], peer: str, remaining: float | None
    ) -> tuple[ProxyReply, str]:
        """Pass one serialized InvokeRequest through the chain; the reply and the call's request id."""
        request_id = received.get(metadata.REQUEST_ID) or uuid.uuid4().hex
        try:
            head = read_request_head(request)
        except WireError as exc:
            return ProxyReply.failure(Status.INVALID_ARGUMENT, f"malformed InvokeRequest: {exc}"), request_id
        call = ProxiedCall(
            procedure=head.procedure,
            api_version=head.api_version,
            protocol=head.protocol,
            request=request,
            metadata=received,
            peer=received.get(metadata.PEER) or peer,
            request_id=request_id,
            timeout=self._max_timeout if remaining is None else min(remaining, self._max_timeout),
        )
        return await self._handle(call), request_id

    async def invoke(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        """Handle one serialized InvokeRequest (unary: gRPC clients, and workers of other languages)."""
        received = metadata.as_dict(context.invocation_metadata())
        reply, request_id = await self._serve(request, received, context.peer(), context.time_remaining())
        if reply.status is not Status.OK:
            context.set_trailing_metadata(((metadata.REQUEST_ID, request_id),))
            await context.abort(grpc.StatusCode[reply.status.name], reply.details)
        return reply.response

    async def invoke_stream(
        self,
        requests: AsyncIterator[worker_pb2.InvokeStreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[worker_pb2.InvokeStreamResponse]:
        """Handle the calls of one InvokeStream (the frontend's), each through the chain."""
        peer = context.peer()

        async def handle(streamed: worker_pb2.StreamedCall) -> worker_pb2.StreamedResult:
            remaining = streamed.timeout_seconds or None
            reply, _ = await self._serve(streamed.request, streamed.metadata, peer, remaining)
            return worker_pb2.StreamedResult(
                id=streamed.id, response=reply.response, status=reply.status, details=reply.details
            )

        async for response in serve_invoke_stream(requests, handle):
            yield response

    async def list_procedures(
        self, request: worker_pb2.ListProceduresRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> worker_pb2.ListProceduresResponse:
        """The catalogue: every routable procedure, filtered by API version."""
        infos = self._pool.catalogue.procedures(request.api_version)
        return worker_pb2.ListProceduresResponse(procedures=[info_to_message(i) for i in infos])


async def start_sidecar_server(
    service: SidecarService, listen: str, record_outgoing: Callable[[CallRecord], None]
) -> RunningServer:
    """Start the sidecar's gRPC server on `listen` (port 0 = kernel-chosen).

    Args:
        record_outgoing: where records of outgoing calls, sent by client kits and legacy
            adapters through `rpcbridge.v1.Sidecar`, go (the call-log writer).
    """
    # Bytes in, bytes out: no per-service stubs on the proxy path.
    generic = worker_service_handler(
        service.invoke, service.invoke_stream, service.list_procedures, invoke_as_bytes=True
    )
    outgoing = outgoing_calls_handler(record_outgoing)
    return await start_server(
        listen, [generic, outgoing], [WORKER_SERVICE, OUTGOING_SERVICE_NAME], reflection=True
    )
