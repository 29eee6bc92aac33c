"""A worker's Prometheus metrics (calls, latency, in flight) and its `/metrics` endpoint.

No aiohttp: served by prometheus_client's own HTTP server in a thread, so the light worker install
stays light. Imported by `bridge.worker_main` only when a metrics port is set.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from bridge.process_metrics import process_registry

# Seconds; from an in-process answer to the longest sensible deadline.
_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class WorkerMetrics:
    """Calls by procedure and outcome, a latency histogram and the calls in flight, in their own registry."""

    def __init__(self) -> None:
        self.registry = process_registry()
        self.calls = Counter(
            "rpcbridge_worker_calls",
            "Calls run by this worker, by procedure and outcome (ok or fault).",
            ["procedure", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rpcbridge_worker_call_seconds",
            "Time a procedure took to run, by procedure.",
            ["procedure"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "rpcbridge_worker_calls_in_flight", "Calls running in this worker now.", registry=self.registry
        )

    def started(self, procedure: str) -> None:
        """One call began."""
        del procedure  # in flight is counted over all procedures
        self.in_flight.inc()

    def finished(self, procedure: str, outcome: str, seconds: float) -> None:
        """One call ended with `outcome` after `seconds`."""
        self.in_flight.dec()
        self.calls.labels(procedure, outcome).inc()
        self.latency.labels(procedure).observe(seconds)

    def serve(self, host: str, port: int) -> str:
        """Serve `/metrics` on host:port (0 = kernel-chosen) in a daemon thread; return its URL."""
        server, _thread = start_http_server(port, host, registry=self.registry)
        return f"http://{host}:{server.server_port}/metrics"
