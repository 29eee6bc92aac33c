"""Prometheus metrics of the sidecar: calls and latency per procedure and outcome.

Pure of transport; the admin web app exposes the registry at `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bridge.auth.failures import AuthFailure
from bridge.errors import Status
from bridge.observability import LabelledChildren
from bridge.sidecar.observation import STATUS_NAMES, CallSummary

# Latency buckets from 0.5 ms: the bridge's hops are sub-millisecond to a few ms.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNKNOWN_PROCEDURE = "<unknown>"


class SidecarMetrics:
    """The sidecar's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter(
            "rpcbridge_sidecar_calls",
            "Calls proxied by the sidecar, by procedure and outcome.",
            ["procedure", "outcome", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rpcbridge_sidecar_call_seconds",
            "Time from receiving a call to answering it, by procedure and outcome.",
            ["procedure", "outcome"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._calls = LabelledChildren(self.calls)
        self._latency = LabelledChildren(self.latency)

        self.auth_failures = Counter(
            "rpcbridge_sidecar_auth_failures",
            "Refused authentications, by reason (the client sees only unauthenticated / forbidden).",
            ["reason"],
            registry=self.registry,
        )

    def auth_failed(self, failure: AuthFailure) -> None:
        """Count one refused authentication."""
        self.auth_failures.labels(failure.reason.value).inc()

    def watch_call_log(self, queue_depth: Callable[[], float], dropped: Callable[[], float]) -> None:
        """Expose the call-log writer's queue depth and its running total of dropped records."""
        depth = Gauge(
            "rpcbridge_call_log_queue_depth",
            "Call-log records waiting to be written.",
            registry=self.registry,
        )
        depth.set_function(queue_depth)
        lost = Gauge(
            "rpcbridge_call_log_dropped_records",
            "Call-log records dropped since start because the buffer was full (a running total).",
            registry=self.registry,
        )
        lost.set_function(dropped)

    def observe(self, summary: CallSummary) -> None:
        """Count one call (a sink for `ObserveCalls`)."""
        # Unknown names come from clients; labelling them would let a client grow the label set.
        known = summary.status is not Status.NOT_FOUND
        procedure = summary.call.procedure if known else UNKNOWN_PROCEDURE
        code = str(summary.fault_code) if summary.fault_code is not None else STATUS_NAMES[summary.status]
        self._calls(procedure, summary.outcome, code).inc()
        self._latency(procedure, summary.outcome).observe(summary.duration)
