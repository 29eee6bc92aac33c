"""Serialized InvokeRequest / InvokeResponse bytes <-> `Call` / `Outcome`, for the protobuf-free sidecar.

Part of the one package that touches the generated stubs. The sidecar proxies bytes; it decodes
them only where it must: background jobs (stored as they travelled), the call log's payload text, and
the events a reply carries.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from bridge.calls import Call, Outcome
from bridge.events.model import EmittedEvent
from bridge.rpc.values import emitted_events, outcome_to_response, request_to_call, response_to_outcome
from rpcbridge.v1 import worker_pb2


def outcome_bytes(outcome: Outcome) -> bytes:
    """A serialized InvokeResponse holding the outcome; TypeError for a value outside the neutral types."""
    return outcome_to_response(outcome).SerializeToString()


def outcome_from_bytes(response: bytes) -> Outcome:
    """The outcome in a serialized InvokeResponse; ValueError when it does not parse."""
    try:
        return response_to_outcome(worker_pb2.InvokeResponse.FromString(response))
    except DecodeError as exc:
        raise ValueError("malformed InvokeResponse") from exc


def call_from_bytes(request: bytes) -> Call:
    """The call in a serialized InvokeRequest; ValueError when it does not parse."""
    try:
        return request_to_call(worker_pb2.InvokeRequest.FromString(request))
    except DecodeError as exc:
        raise ValueError("malformed InvokeRequest") from exc


def events_from_bytes(response: bytes) -> list[EmittedEvent]:
    """The events in a serialized InvokeResponse; ValueError when it does not parse."""
    try:
        return emitted_events(worker_pb2.InvokeResponse.FromString(response))
    except DecodeError as exc:
        raise ValueError("malformed InvokeResponse") from exc
