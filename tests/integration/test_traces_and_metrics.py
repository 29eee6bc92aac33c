"""Traces and metrics across real processes: a client's traceparent reaches the worker procedure, the
log lines and the call log; workers and the sidecar serve /metrics on ports of their own."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.records import CallFilter
from bridge.testing import Deployment, deployment, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc, post

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A deployment whose sidecar and worker serve metrics on kernel-chosen ports of their own."""
    scratch = tmp_path_factory.mktemp("traced")
    with deployment([EXAMPLE_WORKER], env={"RPCBRIDGE_METRICS_PORT": "0"}, scratch=scratch) as running:
        yield running


def traced_call(url: str, traceparent: str) -> tuple[str, dict[str, str]]:
    """Call trace.id over JSON-RPC with a traceparent header; the result and the response headers."""
    status, headers, body = post(
        url + "/rpc",
        b'{"jsonrpc": "2.0", "method": "trace.id", "id": 1}',
        "application/json",
        {"traceparent": traceparent, "X-Request-Id": "traced-" + traceparent[-20:]},
    )
    assert status == 200
    return json.loads(body)["result"], headers


def logged_trace_ids(data_dir: Path, procedure: str) -> list[str]:
    async def query() -> list[str]:
        stores = await open_stores(Settings(data_dir=data_dir))
        try:
            page = await stores.call_log.query(CallFilter(procedure=procedure, trace_id=TRACE_ID))
            return [record.trace_id for record in page.records]
        finally:
            await stores.close()

    return asyncio.run(query())


def test_a_traceparent_sent_over_http_reaches_the_procedure_the_logs_and_the_call_log(
    traced: Deployment,
) -> None:
    """The procedure sees the client's trace id; the sidecar's call line and the call log too, and
    the frontend's request line (written at INFO when a call faults) carries it as well."""
    result, _ = traced_call(traced.url, TRACEPARENT)
    assert result == TRACE_ID
    wait_until(lambda: logged_trace_ids(traced.scratch / "data", "trace.id") == [TRACE_ID])
    wait_until(lambda: f"trace_id={TRACE_ID}" in traced.sidecar.log())
    status, _, _ = post(
        traced.url + "/rpc",
        b'{"jsonrpc": "2.0", "method": "no.such.procedure", "id": 2}',
        "application/json",
        {"traceparent": TRACEPARENT},
    )
    assert status == 200
    wait_until(lambda: f"trace_id={TRACE_ID}" in traced.frontend.log())


def test_an_invalid_traceparent_is_ignored_and_a_new_trace_started(traced: Deployment) -> None:
    """An all-zero trace id is invalid (W3C Trace Context 3.2.2.3): the call gets a fresh trace of its own."""
    result, _ = traced_call(traced.url, "00-" + "0" * 32 + "-00f067aa0ba902b7-01")
    assert len(result) == 32 and result != "0" * 32
    status, answer = json_rpc(traced.url + "/rpc", {"jsonrpc": "2.0", "method": "trace.id", "id": 2})
    assert status == 200 and len(answer["result"]) == 32 and answer["result"] != result


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def test_workers_and_the_sidecar_serve_metrics_on_ports_of_their_own(traced: Deployment) -> None:
    """After a call, the worker's /metrics counts it by procedure; both expose process and GC metrics."""
    traced_call(traced.url, TRACEPARENT)
    (worker,) = traced.workers
    worker_metrics = scrape(worker.facts["metrics"])
    assert 'rpcbridge_worker_calls_total{outcome="ok",procedure="trace.id"}' in worker_metrics
    assert "rpcbridge_worker_call_seconds_bucket" in worker_metrics
    assert "rpcbridge_worker_calls_in_flight 0.0" in worker_metrics
    sidecar_metrics = scrape(traced.sidecar.facts["metrics"])
    assert 'procedure="trace.id"' in sidecar_metrics
    for text in (worker_metrics, sidecar_metrics):
        assert "process_resident_memory_bytes" in text
        assert "python_gc_collections_total" in text
        assert "python_info" in text
