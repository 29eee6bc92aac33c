"""Turns each call's summary into a call-log record, off the call path.

Pure of transport. Arguments and results are rendered (redacted, truncated) only when
`log_arguments` is on, by a function the gRPC layer provides; the writer batches the records.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Protocol

from bridge.procedures import ProcedureInfo
from bridge.sidecar.observation import CallSummary
from bridge.store.records import CallRecord

MAX_PAYLOAD_TEXT = 2000
REDACTED = "[redacted]"

RenderPayload = Callable[[bytes, bytes, ProcedureInfo | None], tuple[str | None, str | None]]
"""(request bytes, response bytes, descriptor) -> (arguments text, result text), both redacted."""


class RecordSink(Protocol):
    """Where records go: `CallLogWriter.record` (non-blocking, bounded)."""

    def __call__(self, entry: CallRecord) -> None:
        """Take one record."""
        ...


class RecordCalls:
    """A summary sink that writes one call-log record per incoming call."""

    def __init__(
        self,
        sink: RecordSink,
        describe: Callable[[str], ProcedureInfo | None],
        render: RenderPayload | None = None,
    ) -> None:
        self._sink = sink
        self._describe = describe
        self._render = render

    def __call__(self, summary: CallSummary) -> None:
        """Record one call."""
        call = summary.call
        arguments = result = None
        if self._render is not None:
            arguments, result = self._render(call.request, summary.response, self._describe(call.procedure))
        self._sink(
            CallRecord(
                at=datetime.datetime.fromtimestamp(summary.started_at, datetime.UTC),
                direction="incoming",
                protocol=call.protocol,
                procedure=call.procedure[:200],
                outcome=summary.outcome,
                duration_ms=round(summary.duration * 1000, 3),
                user=call.caller or "",
                peer=call.peer,
                request_id=call.request_id,
                fault_code=summary.fault_code,
                status=summary.status.name,
                request_bytes=len(call.request),
                response_bytes=len(summary.response),
                arguments=arguments,
                result=result,
            )
        )


def truncate(text: str, limit: int = MAX_PAYLOAD_TEXT) -> str:
    """Cut long text, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"
