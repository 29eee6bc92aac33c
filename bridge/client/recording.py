"""Outgoing-call records: one `CallRecord` (direction "outgoing") per call a point makes.

Records go to a `RecordSink`; given the sidecar's address, that is `bridge.rpc.outgoing_log`'s
fire-and-forget sender (one per address and process), imported only then, so a point that logs
nothing never loads grpc. A record that cannot be sent never fails the call. Imports no HTTP or
gRPC library itself.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bridge.auth.failures import AuthFailure
from bridge.auth.signing import check_shape, credentials_from_params
from bridge.calls import Outcome, Success
from bridge.client.failures import TransportError
from bridge.errors import Fault
from bridge.store.records import ERROR, FAULT, OK, OUTGOING, REDACTED, CallRecord, truncate

log = logging.getLogger("rpcbridge.client")

AUTH_PARAM_COUNT = 4


class RecordSink(Protocol):
    """Takes outgoing-call records; `bridge.rpc.outgoing_log.OutgoingCallLog` is one."""

    def record(self, record: CallRecord) -> None:
        """Take one record without blocking for long and without raising for a lost record."""
        ...


_shared_sinks: dict[str, RecordSink] = {}
_shared_sinks_lock = threading.Lock()


def sink_for(sidecar: str | RecordSink | None) -> RecordSink | None:
    """The sink for a point's `sidecar` argument.

    `None` records nothing; any object with a `record(CallRecord)` method is used as it is; a
    "host:port" string means that sidecar, through one sender per address shared by every point
    of the process. The sender outlives the points on purpose: a point closed right after its
    call must not cancel the record still on its way (records are sent without waiting).
    """
    if sidecar is None or not isinstance(sidecar, str):
        return sidecar
    with _shared_sinks_lock:
        sink = _shared_sinks.get(sidecar)
        if sink is None:
            # Imported here: a point without a sidecar must not need grpc loaded.
            from bridge.rpc.outgoing_log import OutgoingCallLog

            sink = _shared_sinks[sidecar] = OutgoingCallLog(sidecar)
        return sink


def auth_user(original: Sequence[Any], sent: Sequence[Any]) -> str | None:
    """The user name when `sent` starts with four rpcenable auth params a param hook added, else None."""
    if len(sent) - len(original) < AUTH_PARAM_COUNT:
        return None
    try:
        credentials, _ = credentials_from_params(sent)
        check_shape(credentials)
    except AuthFailure:
        return None
    return credentials.username


@dataclass(slots=True)
class CallNote:
    """What one call was: filled in as it goes, then turned into a record.

    Args:
        params: the params as sent (list), or the named params (mapping); None when not kept.
        redacted: how many leading params are auth params, shown as "[redacted]".
    """

    procedure: str
    params: Sequence[Any] | Mapping[str, Any] | None
    request_id: str
    user: str = ""
    redacted: int = 0
    request_bytes: int = 0
    at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)


def _render_arguments(note: CallNote) -> str | None:
    params = note.params
    if params is None:
        return None
    if isinstance(params, Mapping):
        return truncate(repr(dict(params)))
    shown = [REDACTED] * min(note.redacted, len(params)) + list(params[note.redacted :])
    return truncate(repr(shown))


class CallRecorder:
    """Builds one outgoing record per call and hands it to the sink, if there is one."""

    def __init__(self, sink: RecordSink | None, protocol: str, peer: str, log_arguments: bool) -> None:
        self.sink = sink
        self.protocol = protocol
        self.peer = peer
        self.log_arguments = log_arguments

    def record(
        self,
        note: CallNote,
        result: Outcome | TransportError | None,
        response_bytes: int = 0,
        ended: float | None = None,
    ) -> None:
        """Record how `note`'s call ended: a value, a fault, a transport error (None: no reply wanted)."""
        if self.sink is None:
            return
        duration = (time.perf_counter() if ended is None else ended) - note.started
        outcome, fault_code, status, shown = OK, None, "", None
        if isinstance(result, Fault):
            outcome, fault_code = FAULT, result.code
            shown = repr(result)
        elif isinstance(result, TransportError):
            outcome, status = ERROR, str(result)[:200]
        elif isinstance(result, Success):
            shown = repr(result.value)
        record = CallRecord(
            at=datetime.datetime.fromtimestamp(note.at, datetime.UTC),
            direction=OUTGOING,
            protocol=self.protocol,
            procedure=note.procedure[:200],
            outcome=outcome,
            duration_ms=round(duration * 1000, 3),
            user=note.user,
            peer=self.peer,
            request_id=note.request_id,
            fault_code=fault_code,
            status=status,
            request_bytes=note.request_bytes,
            response_bytes=response_bytes,
            arguments=_render_arguments(note) if self.log_arguments else None,
            result=truncate(shown) if self.log_arguments and shown is not None else None,
        )
        try:
            self.sink.record(record)
        except Exception:
            # A lost record never fails the call it describes.
            log.warning("could not record an outgoing call to %s", self.peer, exc_info=True)
