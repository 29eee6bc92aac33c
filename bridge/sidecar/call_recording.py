"""Turns each call's summary into a call-log record, off the call path.

Arguments and results are rendered (redacted, truncated) only when `log_arguments` is on; auth
params never appear (the sidecar took them out of the request first). The writer batches records.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Protocol

from bridge.introspection import SECRET_RESULTS
from bridge.procedures import ProcedureInfo
from bridge.rpc.invoke_codec import call_from_bytes, outcome_from_bytes
from bridge.sidecar.observation import STATUS_NAMES, CallSummary
from bridge.store.records import REDACTED, CallRecord, truncate

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
                duration_ms=summary.duration_ms,
                user=call.caller or "",
                peer=call.peer,
                request_id=call.request_id,
                trace_id=call.trace.trace_id if call.trace is not None else "",
                fault_code=summary.fault_code,
                status=STATUS_NAMES[summary.status],
                request_bytes=len(call.request),
                response_bytes=len(summary.response),
                arguments=arguments,
                result=result,
            )
        )


def render_payload(
    request: bytes, response: bytes, info: ProcedureInfo | None
) -> tuple[str | None, str | None]:
    """(arguments, result) as text, parameters the procedure declares sensitive redacted, both truncated."""
    sensitive = set(info.sensitive_params) if info is not None else set()
    try:
        call = call_from_bytes(request)
    except ValueError:
        return None, None
    if call.named is not None:
        arguments = repr({k: REDACTED if k in sensitive else v for k, v in call.named.items()})
    else:
        names = [p.name for p in info.params] if info is not None else []
        shown = [
            REDACTED if index < len(names) and names[index] in sensitive else value
            for index, value in enumerate(call.params)
        ]
        arguments = repr(shown)
    result: str | None = None
    if response and call.procedure in SECRET_RESULTS:
        result = REDACTED
    elif response:
        try:
            result = repr(outcome_from_bytes(response))
        except ValueError:
            result = None
    return truncate(arguments), truncate(result) if result is not None else None
