"""The sidecar's dispatcher: each call read from the wire, passed once through the interceptor chain, routed.

`Invoke` is handled at the bytes level: the request's procedure and version are read from the
wire (`bridge.rpc.wire`), the call passes the interceptor chain once, and the worker's reply
bytes go back untouched. Routing failures are statuses (NOT_FOUND, UNAVAILABLE). No grpc here:
`bridge.rpc.proxy_server` serves this as a `ProxyHandler`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Protocol

from bridge import metadata
from bridge.errors import Status
from bridge.procedures import ProcedureInfo
from bridge.rpc.wire import WireError, read_fault_code, read_request_head
from bridge.sidecar.catalogue import Catalogue, RouteFailure
from bridge.sidecar.interception import Interceptor, Proceed, ProxiedCall, ProxyReply, chain
from bridge.tracing import Span, continue_or_start, tracer

# Metadata a client may send that the sidecar passes on to the worker.
_FORWARDED = (metadata.REQUEST_ID,)


class Workers(Protocol):
    """The workers a call can be routed to (`bridge.sidecar.worker_pool.WorkerPool`)."""

    @property
    def catalogue(self) -> Catalogue:
        """Which worker serves which procedure."""
        ...

    async def invoke(
        self, address: str, request: bytes, extra: Sequence[tuple[str, str]], deadline: float | None
    ) -> bytes | tuple[Status, str]:
        """Send serialized InvokeRequest bytes to one worker; bytes back, or the failure status."""
        ...


def forward_to_worker(workers: Workers) -> Proceed:
    """The terminal handler: route a call to a worker and invoke it there, bytes in and bytes out.

    The interceptor chain ends here; the background job runner calls it directly, so a job's run
    passes no interceptor a second time.
    """

    async def forward(call: ProxiedCall) -> ProxyReply:
        route = workers.catalogue.route(call.procedure, call.api_version)
        if isinstance(route, RouteFailure):
            return ProxyReply.failure(route.status, route.detail)
        extra = [(key, call.metadata[key]) for key in _FORWARDED if key in call.metadata]
        extra += list(call.forward_metadata.items())
        if call.trace is not None:
            extra.append((metadata.TRACEPARENT, call.trace.header))
            if call.trace.tracestate:
                extra.append((metadata.TRACESTATE, call.trace.tracestate))
        if call.caller is not None:
            extra.append((metadata.CALLER, call.caller))
        answer = await workers.invoke(route, call.request, extra, call.timeout)
        if isinstance(answer, bytes):
            return ProxyReply(answer, answered=call)
        return ProxyReply.failure(*answer, answered=call)

    return forward


class SidecarService:
    """Routes each call to a worker through the interceptor chain (a `bridge.rpc` `ProxyHandler`)."""

    def __init__(
        self,
        workers: Workers,
        interceptors: Sequence[Interceptor],
        max_timeout: float,
        terminal: Proceed | None = None,
    ) -> None:
        """Args: terminal: the end of the chain, `forward_to_worker(workers)` unless given (wrapped)."""
        self._catalogue = workers.catalogue
        self._max_timeout = max_timeout
        self._handle = chain(interceptors, terminal or forward_to_worker(workers))

    async def invoke(
        self, request: bytes, received: Mapping[str, str], peer: str, remaining: float | None
    ) -> tuple[ProxyReply, str]:
        """Pass one serialized InvokeRequest through the chain; the reply and the call's request id."""
        request_id = received.get(metadata.REQUEST_ID) or uuid.uuid4().hex
        try:
            head = read_request_head(request)
        except WireError as exc:
            return ProxyReply.failure(Status.INVALID_ARGUMENT, f"malformed InvokeRequest: {exc}"), request_id
        parent = continue_or_start(received.get(metadata.TRACEPARENT), received.get(metadata.TRACESTATE))
        attributes = {
            "rpc.system": "grpc",
            "rpc.service": "rpcbridge.v1.Worker",
            "rpc.method": "Invoke",
            "rpcbridge.procedure": head.procedure[:200],
            "rpcbridge.protocol": head.protocol,
            "rpcbridge.request_id": request_id,
        }
        name = f"rpcbridge.v1.Worker/{head.procedure[:200]}"
        with tracer().span(name, "server", parent, attributes) as span:
            call = ProxiedCall(
                procedure=head.procedure,
                api_version=head.api_version,
                protocol=head.protocol,
                request=request,
                metadata=received,
                peer=received.get(metadata.PEER) or peer,
                request_id=request_id,
                timeout=self._max_timeout if remaining is None else min(remaining, self._max_timeout),
                trace=span.context,
            )
            reply = await self._handle(call)
            _describe_span(span, reply)
        return reply, request_id

    def list_procedures(self, api_version: int) -> Sequence[ProcedureInfo]:
        """The catalogue: every routable procedure, filtered by API version."""
        return self._catalogue.procedures(api_version)


def _describe_span(span: Span, reply: ProxyReply) -> None:
    """The call's gRPC status, and its fault code, as semantic-convention attributes of its span."""
    span.set("rpc.grpc.status_code", int(reply.status))
    if reply.status is not Status.OK:
        span.error = reply.details or reply.status.name
        return
    try:
        code = read_fault_code(reply.response)
    except WireError:
        return
    if code is not None:
        # The JSON-RPC convention's attribute; the bridge's fault codes are JSON-RPC codes (faults.py).
        span.set("rpc.jsonrpc.error_code", code)
        span.error = f"fault {code}"
