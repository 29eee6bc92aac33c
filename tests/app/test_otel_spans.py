"""OpenTelemetry spans (the `otel` extra): the frontend, the sidecar and the worker each record one span
per call, parented through the propagated traceparent, with the RPC semantic conventions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pytest_aiohttp import AiohttpClient

from bridge import Worker, call_context
from bridge.errors import Fault
from bridge.frontend import create_app
from bridge.otel import OtelTracer
from bridge.rpc.proxy_server import serve_proxy
from bridge.rpc.sidecar_client import SidecarClient
from bridge.rpc.worker_server import start_worker_server
from bridge.settings import Settings
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.service import SidecarService
from bridge.sidecar.worker_pool import WorkerPool
from bridge.tracing import IdTracer, use_tracer

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"

worker = Worker()


@worker.procedure(name="trace.id")
def trace_id() -> str:
    """The call's trace id, as the procedure sees it."""
    return call_context().trace_id


@worker.procedure(name="refuse")
def refuse() -> None:
    """Always fault."""
    raise Fault(-32001, "refused")


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Every span of the test, kept in memory; the no-op tracer put back afterwards."""
    spans = InMemorySpanExporter()
    tracer = OtelTracer(SimpleSpanProcessor(spans), "rpcbridge-test")
    use_tracer(tracer)
    yield spans
    use_tracer(IdTracer())
    tracer.shutdown()


@pytest.fixture
async def chain(
    aiohttp_client: AiohttpClient, exporter: InMemorySpanExporter
) -> AsyncIterator[TestClient[Any, Any]]:
    """Worker and sidecar on 127.0.0.1 in this process, and the frontend app in front of them."""
    running_worker = await start_worker_server(worker, "127.0.0.1:0")
    pool = WorkerPool(Catalogue(), [running_worker.address])
    await pool.start()
    sidecar = await serve_proxy(SidecarService(pool, [], 30.0), "127.0.0.1:0", lambda record: None)
    client = SidecarClient(sidecar.address)
    try:
        yield await aiohttp_client(create_app(Settings().frontend, client))
    finally:
        await client.aclose()
        await sidecar.stop()
        await pool.aclose()
        await running_worker.stop()


async def test_each_hop_records_a_span_parented_by_the_one_before(
    chain: TestClient[Any, Any], exporter: InMemorySpanExporter
) -> None:
    """Client span -> frontend SERVER span -> sidecar span -> worker span, one trace, RPC attributes set."""
    answer = await chain.post(
        "/rpc",
        json={"jsonrpc": "2.0", "method": "trace.id", "id": 7},
        headers={"traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-01", "tracestate": "congo=t61rcWkgMzE"},
    )
    assert (await answer.json())["result"] == TRACE_ID

    spans = {span.name: span for span in exporter.get_finished_spans()}
    frontend = spans["POST /rpc"]
    sidecar = spans["rpcbridge.v1.Worker/trace.id"]
    procedure = spans["trace.id"]
    assert {format(s.context.trace_id, "032x") for s in (frontend, sidecar, procedure)} == {TRACE_ID}
    assert frontend.parent is not None and format(frontend.parent.span_id, "016x") == CLIENT_SPAN
    assert sidecar.parent is not None and sidecar.parent.span_id == frontend.context.span_id
    assert procedure.parent is not None and procedure.parent.span_id == sidecar.context.span_id
    assert frontend.kind is SpanKind.SERVER and sidecar.kind is SpanKind.SERVER
    assert (
        dict(frontend.attributes or {}).items()
        >= {
            "rpc.system": "jsonrpc",
            "rpc.method": "trace.id",
            "http.request.method": "POST",
            "http.response.status_code": 200,
        }.items()
    )
    assert (
        dict(sidecar.attributes or {}).items()
        >= {
            "rpc.system": "grpc",
            "rpc.service": "rpcbridge.v1.Worker",
            "rpc.method": "Invoke",
            "rpcbridge.procedure": "trace.id",
            "rpc.grpc.status_code": 0,
        }.items()
    )
    assert (procedure.attributes or {})["rpcbridge.procedure"] == "trace.id"
    assert frontend.context.trace_state.get("congo") == "t61rcWkgMzE"


async def test_a_fault_marks_the_spans_as_errors_with_its_code(
    chain: TestClient[Any, Any], exporter: InMemorySpanExporter
) -> None:
    """A faulting call: its code on the sidecar and worker spans, each span's status ERROR."""
    answer = await chain.post("/rpc", json={"jsonrpc": "2.0", "method": "refuse", "id": 1})
    assert (await answer.json())["error"]["code"] == -32001

    spans = {span.name: span for span in exporter.get_finished_spans()}
    for name in ("rpcbridge.v1.Worker/refuse", "refuse"):
        assert (spans[name].attributes or {})["rpc.jsonrpc.error_code"] == -32001
        assert spans[name].status.status_code is StatusCode.ERROR
    assert spans["POST /rpc"].status.status_code is StatusCode.ERROR
    # No traceparent sent: the frontend started a trace, and every hop is in it.
    assert len({span.context.trace_id for span in spans.values()}) == 1
