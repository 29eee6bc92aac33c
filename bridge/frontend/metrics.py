"""The frontend's Prometheus metrics, kept in a registry of their own per application.

A per-app `CollectorRegistry` (not the process-global one) so that two apps in one process, as
in tests, count separately. Served as Prometheus text on `GET /metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bridge.calls import Outcome
from bridge.errors import Fault
from bridge.observability import LabelledChildren
from bridge.process_metrics import process_registry

OK: Final = "ok"
FAULT: Final = "fault"

# Seconds; spans an in-process answer (~1 ms) to the longest sensible deadline.
_LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class FrontendMetrics:
    """Counters of RPC requests and calls by protocol and outcome, a request latency histogram, and
    the WebSockets' sockets, subscriptions, events sent, slow-consumer closes and recoveries."""

    def __init__(self) -> None:
        self.registry = process_registry()
        self.requests = Counter(
            "rpcbridge_frontend_rpc_requests",
            "HTTP RPC requests by protocol and outcome (fault when any call in the request faulted).",
            ["protocol", "outcome"],
            registry=self.registry,
        )
        self.calls = Counter(
            "rpcbridge_frontend_rpc_calls",
            "Calls carried by HTTP RPC requests (batch and multicall members each count), by outcome.",
            ["protocol", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rpcbridge_frontend_rpc_request_duration_seconds",
            "Time from receiving an HTTP RPC request to having its reply, by protocol.",
            ["protocol"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._requests = LabelledChildren(self.requests)
        self._calls = LabelledChildren(self.calls)
        self._latency = LabelledChildren(self.latency)
        self.ws_sockets = Gauge(
            "rpcbridge_frontend_ws_sockets", "WebSockets open on this frontend.", registry=self.registry
        )
        self.ws_subscriptions = Gauge(
            "rpcbridge_frontend_ws_subscriptions",
            "Event subscriptions open on this frontend.",
            registry=self.registry,
        )
        self.ws_events = Counter(
            "rpcbridge_frontend_ws_events_sent",
            "Events sent to subscriptions (one per subscription that received it).",
            registry=self.registry,
        )
        self.ws_slow_closes = Counter(
            "rpcbridge_frontend_ws_slow_consumer_closes",
            "Sockets closed with 4008 because their send queue was full.",
            registry=self.registry,
        )
        self.ws_recoveries = Counter(
            "rpcbridge_frontend_ws_recoveries",
            'Subscriptions with "since", by outcome (recovered, not_recovered).',
            ["outcome"],
            registry=self.registry,
        )

    def fanned_out(self, count: int) -> None:
        """Count events sent to WebSocket subscriptions."""
        self.ws_events.inc(count)

    def observe(self, protocol: str, outcomes: Sequence[Outcome], faulted: bool, seconds: float) -> str:
        """Count one HTTP RPC request and its calls; return the request's outcome label.

        Args:
            outcomes: one per call the request carried; empty when it was refused as a whole.
            faulted: whether the reply holds any fault, a refusal of the whole request included.
        """
        faults = sum(1 for outcome in outcomes if isinstance(outcome, Fault))
        label = FAULT if faulted or faults else OK
        self._requests(protocol, label).inc()
        if faults:
            self._calls(protocol, FAULT).inc(faults)
        if len(outcomes) > faults:
            self._calls(protocol, OK).inc(len(outcomes) - faults)
        self._latency(protocol).observe(seconds)
        return label

    async def handle(self, request: web.Request) -> web.Response:
        """GET /metrics: the registry in Prometheus text format."""
        del request  # the answer does not depend on the request
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
