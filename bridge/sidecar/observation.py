"""Observes every proxied call once: one canonical access-log line, metrics, and other sinks.

Pure of transport. The summary is built once per call and handed to each sink, so the log line,
the metrics and the call log (later) always agree.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from bridge.errors import Status
from bridge.observability import LogLine
from bridge.rpc.wire import WireError, read_fault_code
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply

access_log = logging.getLogger("rpcbridge.sidecar.access")

# Every sink writes a status's name per call; an enum's `.name` is a descriptor call each time.
STATUS_NAMES: Final = {status: status.name for status in Status}


@dataclass(frozen=True, slots=True)
class CallSummary:
    """What happened to one call, as every sink sees it."""

    started_at: float
    call: ProxiedCall
    outcome: str  # "ok", "fault" (application or protocol fault in the reply) or "error" (a status)
    fault_code: int | None
    status: Status
    duration: float
    response: bytes
    duration_ms: float  # `duration` as the log line and the call log show it, rounded once


class SummarySink(Protocol):
    """Receives each call's summary; must be fast and must not raise."""

    def __call__(self, summary: CallSummary) -> None:
        """Take one summary."""
        ...


def summarize(call: ProxiedCall, reply: ProxyReply, started_at: float, duration: float) -> CallSummary:
    """Classify a reply as ok / fault / error."""
    fault_code: int | None = None
    if reply.status is not Status.OK:
        outcome = "error"
    else:
        try:
            fault_code = read_fault_code(reply.response)
        except WireError:
            fault_code = None
        outcome = "ok" if fault_code is None else "fault"
    duration_ms = round(duration * 1000, 3)
    return CallSummary(
        started_at, call, outcome, fault_code, reply.status, duration, reply.response, duration_ms
    )


def write_access_line(summary: CallSummary) -> None:
    """The canonical log line of a call, a view of its call-log record: one per call, structured."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    call = summary.call
    access_log.info(
        LogLine(
            "call",
            {
                "request_id": call.request_id,
                "protocol": call.protocol,
                "procedure": call.procedure,
                "caller": call.caller,
                "peer": call.peer,
                "outcome": summary.outcome,
                "code": summary.fault_code,
                "status": STATUS_NAMES[summary.status],
                "duration_ms": summary.duration_ms,
                "request_bytes": len(call.request),
                "response_bytes": len(summary.response),
                "trace_id": call.trace.trace_id if call.trace is not None else None,
            },
        )
    )


class ObserveCalls:
    """Interceptor that times each call and feeds its summary to every sink."""

    def __init__(self, sinks: Sequence[SummarySink]) -> None:
        self._sinks = tuple(sinks)

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        """Time the call, then report it to each sink, whatever happened."""
        started_at = time.time()
        start = time.perf_counter()
        reply = ProxyReply.failure(Status.CANCELLED, "cancelled")
        try:
            reply = await proceed(call)
            return reply
        finally:
            # The call as it was answered: its caller proven, its auth params taken out.
            answered = reply.answered or call
            summary = summarize(answered, reply, started_at, time.perf_counter() - start)
            for sink in self._sinks:
                sink(summary)
