"""Outgoing calls into the sidecar's call log: the sender (client kit, legacy adapter) and the receiver.

Records travel as `rpcbridge.v1.OutgoingCall`; on both sides they are `bridge.store.records.CallRecord`
with direction "outgoing", the called server in `peer` and a transport error, if any, in `status`.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bridge.rpc.channels import CHANNEL_OPTIONS
from bridge.store.records import CallRecord
from rpcbridge.v1 import sidecar_pb2

log = logging.getLogger("rpcbridge.client")

SERVICE_NAME = "rpcbridge.v1.Sidecar"
RECORD_PATH = f"/{SERVICE_NAME}/RecordOutgoingCalls"
SEND_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0


def record_to_message(record: CallRecord) -> sidecar_pb2.OutgoingCall:
    """Encode one outgoing record."""
    started = Timestamp()
    started.FromDatetime(record.at.astimezone(datetime.UTC).replace(tzinfo=None))
    message = sidecar_pb2.OutgoingCall(
        started_at=started,
        protocol=record.protocol,
        procedure=record.procedure,
        target=record.peer,
        outcome=record.outcome,
        error=record.status,
        duration_ms=record.duration_ms,
        request_id=record.request_id,
        request_bytes=record.request_bytes,
        response_bytes=record.response_bytes,
        user=record.user,
    )
    if record.fault_code is not None:
        message.fault_code = record.fault_code
    if record.arguments is not None:
        message.arguments = record.arguments
    if record.result is not None:
        message.result = record.result
    return message


def message_to_record(message: sidecar_pb2.OutgoingCall) -> CallRecord:
    """Decode one outgoing record."""
    return CallRecord(
        at=message.started_at.ToDatetime(datetime.UTC),
        direction="outgoing",
        protocol=message.protocol[:32],
        procedure=message.procedure[:200],
        outcome=message.outcome if message.outcome in ("ok", "fault", "error") else "error",
        duration_ms=max(0.0, message.duration_ms),
        user=message.user[:128],
        peer=message.target[:500],
        request_id=message.request_id[:128],
        fault_code=message.fault_code if message.HasField("fault_code") else None,
        status=message.error[:200],
        request_bytes=message.request_bytes,
        response_bytes=message.response_bytes,
        arguments=message.arguments if message.HasField("arguments") else None,
        result=message.result if message.HasField("result") else None,
    )


class OutgoingCallLog:
    """Sends outgoing call records to the sidecar without waiting: a lost record never fails a call."""

    def __init__(self, sidecar_target: str) -> None:
        self._channel = grpc.insecure_channel(sidecar_target, options=CHANNEL_OPTIONS)
        self._send = self._channel.unary_unary(
            RECORD_PATH,
            request_serializer=sidecar_pb2.RecordOutgoingCallsRequest.SerializeToString,
            response_deserializer=sidecar_pb2.RecordOutgoingCallsResponse.FromString,
        )
        self._in_flight: set[Any] = set()
        self._lock = threading.Lock()

    def record(self, record: CallRecord) -> None:
        """Queue one record for the sidecar (fire and forget; failures are logged, not raised)."""
        request = sidecar_pb2.RecordOutgoingCallsRequest(calls=[record_to_message(record)])
        future = self._send.future(request, timeout=SEND_TIMEOUT)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Any) -> None:
        with self._lock:
            self._in_flight.discard(future)
        _log_failure(future)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Wait up to `timeout` seconds for records in flight, then close the channel."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self._in_flight)
        for future in pending:
            with contextlib.suppress(grpc.RpcError, grpc.FutureTimeoutError):
                future.result(timeout=max(0.0, deadline - time.monotonic()))
        self._channel.close()


def _log_failure(future: Any) -> None:
    if future.exception() is not None:
        log.warning("could not send an outgoing call record to the sidecar: %s", future.exception())


def outgoing_calls_handler(record: Callable[[CallRecord], None]) -> grpc.GenericRpcHandler[Any, Any]:
    """The sidecar's `rpcbridge.v1.Sidecar` service, writing each received record through `record`."""

    async def record_outgoing_calls(
        request: sidecar_pb2.RecordOutgoingCallsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> sidecar_pb2.RecordOutgoingCallsResponse:
        for message in request.calls:
            record(message_to_record(message))
        return sidecar_pb2.RecordOutgoingCallsResponse(accepted=len(request.calls))

    handlers = {
        "RecordOutgoingCalls": grpc.unary_unary_rpc_method_handler(
            record_outgoing_calls,
            request_deserializer=sidecar_pb2.RecordOutgoingCallsRequest.FromString,
            response_serializer=sidecar_pb2.RecordOutgoingCallsResponse.SerializeToString,
        )
    }
    return grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)
