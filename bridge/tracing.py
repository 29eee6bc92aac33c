"""W3C Trace Context (`traceparent`/`tracestate`) for the bridge's hops; OpenTelemetry spans if configured.

Pure stdlib; imports no other layer. OpenTelemetry is imported lazily, inside `configure_tracing`,
only when an OTLP endpoint is set (the optional `rpcbridge[otel]` extra): without it nothing is
imported and a span is two random ids.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

# W3C Trace Context, section 3.2.2: version "00" is
# version "-" trace-id (32 lowercase hex) "-" parent-id (16 lowercase hex) "-" trace-flags (2 hex).
_TRACEPARENT: Final = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_INVALID_TRACE_ID: Final = "0" * 32
_INVALID_PARENT_ID: Final = "0" * 16
# Section 3.3.1: at most 32 list members; 512 characters is the size vendors must propagate.
_MAX_TRACESTATE: Final = 512
_TRACESTATE: Final = re.compile(r"[\x20-\x7e]*")
SAMPLED: Final = "01"


@dataclass(frozen=True, slots=True)
class TraceParent:
    """One position in a trace: the trace, the span that is the parent of the next hop, flags, state."""

    trace_id: str
    span_id: str
    flags: str = SAMPLED
    tracestate: str = ""

    @property
    def header(self) -> str:
        """The `traceparent` header value."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def new_span_id() -> str:
    """A random, non-zero 8-byte span id in hex."""
    while (span_id := secrets.token_hex(8)) == _INVALID_PARENT_ID:
        continue
    return span_id


def new_trace() -> TraceParent:
    """The start of a new, sampled trace."""
    while (trace_id := secrets.token_hex(16)) == _INVALID_TRACE_ID:
        continue
    return TraceParent(trace_id, new_span_id())


def parse_traceparent(header: str | None, tracestate: str | None = None) -> TraceParent | None:
    """The trace a valid `traceparent` header continues, else None (the caller starts a new trace).

    W3C Trace Context 3.2.2.3/3.2.2.4: an all-zero trace id or parent id is invalid; version 00
    has exactly four fields. A `tracestate` is kept only alongside a valid `traceparent` (3.3).
    """
    if header is None:
        return None
    match = _TRACEPARENT.fullmatch(header.strip())
    if match is None:
        return None
    trace_id, span_id, flags = match.groups()
    if trace_id == _INVALID_TRACE_ID or span_id == _INVALID_PARENT_ID:
        return None
    state = (tracestate or "").strip()
    if len(state) > _MAX_TRACESTATE or not _TRACESTATE.fullmatch(state):
        state = ""
    return TraceParent(trace_id, span_id, flags, state)


def continue_or_start(header: str | None, tracestate: str | None = None) -> TraceParent:
    """The received trace when its header is valid, else a new one: the parent of this hop's span."""
    return parse_traceparent(header, tracestate) or new_trace()


@dataclass(slots=True)
class Span:
    """One hop's span: its own position in the trace (what the next hop receives) and its attributes."""

    context: TraceParent
    attributes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def set(self, name: str, value: Any) -> None:
        """Set one attribute (RPC semantic conventions: rpc.system, rpc.method, ...)."""
        self.attributes[name] = value


class Tracer(Protocol):
    """Starts the span of one call: a no-op that only makes ids, or OpenTelemetry's."""

    def span(
        self, name: str, kind: str, parent: TraceParent, attributes: Mapping[str, Any]
    ) -> Any:  # a context manager yielding `Span`
        """A context manager around one call, yielding its `Span`."""
        ...


class IdTracer:
    """The tracer used without OpenTelemetry: a child position in the trace, nothing recorded."""

    @contextmanager
    def span(
        self, name: str, kind: str, parent: TraceParent, attributes: Mapping[str, Any]
    ) -> Iterator[Span]:
        """Yield a span with a fresh id under `parent`."""
        del name, kind
        yield Span(
            TraceParent(parent.trace_id, new_span_id(), parent.flags, parent.tracestate), dict(attributes)
        )


_tracer: Tracer = IdTracer()


def tracer() -> Tracer:
    """The process's tracer (`IdTracer` unless `configure_tracing` set up OpenTelemetry)."""
    return _tracer


def use_tracer(chosen: Tracer) -> None:
    """Make `chosen` the process's tracer (tests pass one with an in-memory exporter)."""
    global _tracer  # one tracer per process, set once at start-up
    _tracer = chosen


def configure_tracing(endpoint: str, service_name: str) -> None:
    """Export spans over OTLP to `endpoint` when it is set; without it, import nothing."""
    if not endpoint:
        return
    from bridge.otel import otlp_tracer  # the optional extra, only when configured

    use_tracer(otlp_tracer(endpoint, service_name))
