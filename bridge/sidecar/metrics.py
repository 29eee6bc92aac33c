"""Prometheus metrics of the sidecar: calls and latency per procedure and outcome, events and webhooks.

Pure of transport; the admin web app exposes the registry at `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from prometheus_client import Counter, Gauge, Histogram

from bridge.auth.failures import AuthFailure
from bridge.errors import Status
from bridge.events.model import Event
from bridge.observability import LabelledChildren
from bridge.process_metrics import process_registry
from bridge.sidecar.observation import STATUS_NAMES, CallSummary

# Latency buckets from 0.5 ms: the bridge's hops are sub-millisecond to a few ms.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNKNOWN_PROCEDURE = "<unknown>"


class SidecarMetrics:
    """The sidecar's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = process_registry()
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

        self.events = Counter(
            "rpcbridge_events",
            "Events committed, by type; `dropped` counts events of undeclared hooks or unfit data.",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.deliveries_created = Counter(
            "rpcbridge_webhook_deliveries_created",
            "Webhook deliveries written to the outbox (one per matching listener and event).",
            registry=self.registry,
        )

        self.webhook_attempts = Counter(
            "rpcbridge_webhook_attempts",
            "Webhook delivery attempts, by outcome: delivered, retrying, failed (no attempt left), disabled.",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_latency = Histogram(
            "rpcbridge_webhook_attempt_seconds",
            "Time one webhook attempt took, name resolution included.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "rpcbridge_webhook_outbox_pending",
            "Webhook deliveries pending (not yet delivered or failed).",
            registry=self.registry,
        )
        self.outbox_oldest = Gauge(
            "rpcbridge_webhook_outbox_oldest_seconds",
            "Age of the oldest pending webhook delivery, in seconds (0 when none).",
            registry=self.registry,
        )

    def webhook_attempted(self, outcome: str, seconds: float) -> None:
        """Count one webhook attempt and its latency."""
        self.webhook_attempts.labels(outcome).inc()
        self.webhook_latency.observe(seconds)

    def webhook_outbox(self, pending: int, oldest_seconds: float) -> None:
        """Set the outbox gauges."""
        self.outbox_depth.set(pending)
        self.outbox_oldest.set(oldest_seconds)

    def events_committed(self, events: Sequence[Event], deliveries: int) -> None:
        """Count committed events by type, and the deliveries written with them."""
        for event in events:
            self.events.labels(event.type, "committed").inc()
        self.deliveries_created.inc(deliveries)

    def event_dropped(self, event_type: str) -> None:
        """Count one event dropped at the sidecar (its type is not declared, so not labelled)."""
        self.events.labels(UNKNOWN_PROCEDURE, "dropped").inc()

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

    def watch_jobs(self, running: Callable[[], float]) -> None:
        """Expose how many background jobs this sidecar is running now."""
        gauge = Gauge(
            "rpcbridge_jobs_running", "Background jobs this sidecar is running now.", registry=self.registry
        )
        gauge.set_function(running)

    def observe(self, summary: CallSummary) -> None:
        """Count one call (a sink for `ObserveCalls`)."""
        # Unknown names come from clients; labelling them would let a client grow the label set.
        known = summary.status is not Status.NOT_FOUND
        procedure = summary.call.procedure if known else UNKNOWN_PROCEDURE
        code = str(summary.fault_code) if summary.fault_code is not None else STATUS_NAMES[summary.status]
        self._calls(procedure, summary.outcome, code).inc()
        self._latency(procedure, summary.outcome).observe(summary.duration)
