"""Serves a `bridge.Worker` as the `rpcbridge.v1.Worker` gRPC service.

A worker trusts only calls that carry the sidecar's proof (DESIGN.md, workers): with a
`worker_secret` configured, a call without the matching secret gets UNAUTHENTICATED and nothing runs.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

import grpc
from google.protobuf.message import DecodeError

from bridge import metadata
from bridge.calls import Outcome
from bridge.errors import Fault, Status
from bridge.faults import INTERNAL_ERROR, fault
from bridge.rpc.descriptors import hook_to_message, info_to_message
from bridge.rpc.servers import WORKER_SERVICE, RunningServer, start_server, worker_service_handler
from bridge.rpc.streams import serve_invoke_stream
from bridge.rpc.tls import server_credentials
from bridge.rpc.values import outcome_to_response, request_to_call
from bridge.settings import TlsFiles
from bridge.tracing import continue_or_start, tracer
from bridge.worker import CallContext, Caller, Worker
from rpcbridge.v1 import worker_pb2

log = logging.getLogger("rpcbridge.worker")


class CallMeter(Protocol):
    """Counts the calls a worker runs (`bridge.worker_metrics.WorkerMetrics`)."""

    def started(self, procedure: str) -> None:
        """One call began."""
        ...

    def finished(self, procedure: str, outcome: str, seconds: float) -> None:
        """One call ended, "ok" or "fault", after `seconds`."""
        ...


class _NoMeter:
    def started(self, procedure: str) -> None:
        pass

    def finished(self, procedure: str, outcome: str, seconds: float) -> None:
        pass


# Names a worker does not serve come from clients; labelling them would let a client grow the label set.
UNKNOWN_PROCEDURE = "<unknown>"


class WorkerService:
    """The gRPC face of one `Worker`."""

    def __init__(self, worker: Worker, secret: str = "", meter: CallMeter | None = None) -> None:
        self._worker = worker
        self._secret = secret.encode()
        self._meter = meter or _NoMeter()
        self._names = frozenset(info.name for info in worker.describe())

    async def _check_proof(self, context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
        received = metadata.as_dict(context.invocation_metadata())
        if self._secret and not hmac.compare_digest(
            received.get(metadata.SIDECAR_PROOF, "").encode(), self._secret
        ):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "calls must come through the sidecar")
        return received

    async def Invoke(
        self, request: worker_pb2.InvokeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> worker_pb2.InvokeResponse:
        """Run one procedure; faults and crashes come back inside the reply with status OK."""
        return await self._respond(request, await self._check_proof(context))

    async def invoke_stream(
        self,
        requests: AsyncIterator[worker_pb2.InvokeStreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[worker_pb2.InvokeStreamResponse]:
        """Run the calls of one InvokeStream; the sidecar's proof is checked once, when it opens."""
        await self._check_proof(context)
        async for response in serve_invoke_stream(requests, self._run_streamed):
            yield response

    async def _run_streamed(self, call: worker_pb2.StreamedCall) -> worker_pb2.StreamedResult:
        try:
            request = worker_pb2.InvokeRequest.FromString(call.request)
        except DecodeError:
            return worker_pb2.StreamedResult(
                id=call.id, status=Status.INVALID_ARGUMENT, details="bad request"
            )
        response = await self._respond(request, call.metadata)
        return worker_pb2.StreamedResult(id=call.id, response=response.SerializeToString())

    async def _respond(
        self, request: worker_pb2.InvokeRequest, received: Mapping[str, str]
    ) -> worker_pb2.InvokeResponse:
        caller_name = received.get(metadata.CALLER)
        parent = continue_or_start(received.get(metadata.TRACEPARENT), received.get(metadata.TRACESTATE))
        attributes = {
            "rpc.system": "grpc",
            "rpc.service": "rpcbridge.v1.Worker",
            "rpc.method": "Invoke",
            "rpcbridge.procedure": request.procedure,
        }
        label = request.procedure if request.procedure in self._names else UNKNOWN_PROCEDURE
        self._meter.started(label)
        start = time.perf_counter()
        with tracer().span(request.procedure, "server", parent, attributes) as span:
            context = CallContext(
                received.get(metadata.REQUEST_ID, ""),
                received.get(metadata.JOB_ID, ""),
                span.context.trace_id,
                span.context.header,
            )
            outcome: Outcome
            outcome, events = await self._worker.run_emitting(
                request_to_call(request), Caller(caller_name) if caller_name else None, context
            )
            if isinstance(outcome, Fault):
                span.set("rpc.jsonrpc.error_code", outcome.code)
                span.error = f"fault {outcome.code}"
        faulted = isinstance(outcome, Fault)
        self._meter.finished(label, "fault" if faulted else "ok", time.perf_counter() - start)
        try:
            return outcome_to_response(outcome, events)
        except TypeError:
            log.exception(
                "procedure %s returned or emitted a value rpcbridge cannot carry (request %s)",
                request.procedure,
                received.get(metadata.REQUEST_ID, "-"),
            )
            return outcome_to_response(fault(INTERNAL_ERROR))

    async def ListProcedures(
        self, request: worker_pb2.ListProceduresRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> worker_pb2.ListProceduresResponse:
        """Describe the procedures, filtered by API version when one is given, and the hooks."""
        await self._check_proof(context)
        infos = [i for i in self._worker.describe() if i.serves_version(request.api_version)]
        return worker_pb2.ListProceduresResponse(
            procedures=[info_to_message(i) for i in infos],
            hooks=[hook_to_message(h) for h in self._worker.hooks()],
        )


async def start_worker_server(
    worker: Worker,
    listen: str,
    secret: str = "",
    tls: TlsFiles | None = None,
    meter: CallMeter | None = None,
) -> RunningServer:
    """Start serving `worker` on `listen` (host:port; port 0 = kernel-chosen), with mTLS if given."""
    service = WorkerService(worker, secret, meter)
    generic = worker_service_handler(service.Invoke, service.invoke_stream, service.ListProcedures)
    credentials = server_credentials(tls) if tls is not None else None
    return await start_server(listen, [generic], [WORKER_SERVICE], credentials)


async def serve_worker(
    worker: Worker,
    listen: str,
    secret: str = "",
    ready: Callable[[str], None] | None = None,
    tls: TlsFiles | None = None,
    meter: CallMeter | None = None,
) -> None:
    """Serve until cancelled, then stop gracefully; `ready` receives the bound address."""
    running = await start_worker_server(worker, listen, secret, tls, meter)
    if ready is not None:
        ready(running.address)
    try:
        await asyncio.Event().wait()
    finally:
        await asyncio.shield(running.stop())
