"""OpenTelemetry spans for `bridge.tracing`: the only module that imports opentelemetry.

Imported only by `bridge.tracing.configure_tracing` (an OTLP endpoint set) or by tests; needs the
optional `rpcbridge[otel]` extra. Imports no other layer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from bridge.tracing import Span, TraceParent

_KINDS = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL}


class OtelTracer:
    """A `bridge.tracing.Tracer` that records each call's span with an OpenTelemetry SDK tracer."""

    def __init__(self, processor: SpanProcessor, service_name: str) -> None:
        self._provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        self._provider.add_span_processor(processor)
        self._tracer = self._provider.get_tracer("rpcbridge")

    @contextmanager
    def span(
        self, name: str, kind: str, parent: TraceParent, attributes: Mapping[str, Any]
    ) -> Iterator[Span]:
        """Record one span, child of `parent`; attributes and errors set on the yielded `Span` go into it."""
        remote = SpanContext(
            trace_id=int(parent.trace_id, 16),
            span_id=int(parent.span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(int(parent.flags, 16)),
            trace_state=TraceState.from_header([parent.tracestate]) if parent.tracestate else None,
        )
        context = trace.set_span_in_context(NonRecordingSpan(remote))
        with self._tracer.start_as_current_span(
            name, context=context, kind=_KINDS[kind], attributes=dict(attributes)
        ) as recorded:
            own = recorded.get_span_context()
            handle = Span(
                TraceParent(
                    format(own.trace_id, "032x"), format(own.span_id, "016x"), parent.flags, parent.tracestate
                ),
                dict(attributes),
            )
            try:
                yield handle
            finally:
                recorded.set_attributes(handle.attributes)
                if handle.error is not None:
                    recorded.set_status(Status(StatusCode.ERROR, handle.error))

    def shutdown(self) -> None:
        """Flush and stop the exporter."""
        self._provider.shutdown()


def otlp_tracer(endpoint: str, service_name: str) -> OtelTracer:
    """A tracer that batches spans to an OTLP/gRPC collector at `endpoint`."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OtelTracer(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)), service_name)
