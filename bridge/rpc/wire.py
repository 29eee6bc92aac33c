"""Reads the few top-level fields the sidecar routes and logs by, straight from protobuf bytes.

The sidecar proxies calls at the bytes level (DESIGN.md): it must know an InvokeRequest's
procedure and API version, and whether an InvokeResponse is a fault or carries events, without
decoding arguments or results. Pure; knows the protobuf wire format (https://protobuf.dev/programming-guides/encoding/).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bridge.errors import BridgeError

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# Field numbers from proto/rpcbridge/v1/worker.proto; tests/unit/sidecar/test_wire.py checks them
# against the generated descriptors, so a proto change cannot silently break routing.
REQUEST_PROCEDURE = 1  # InvokeRequest.procedure
REQUEST_API_VERSION = 4  # InvokeRequest.api_version
REQUEST_PROTOCOL = 5  # InvokeRequest.protocol
RESPONSE_FAULT = 2  # InvokeResponse.fault (oneof outcome)
RESPONSE_EVENTS = 3  # InvokeResponse.events
FAULT_CODE = 1  # Fault.code


class WireError(BridgeError, ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _top_level(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Each top-level field as (number, wire type, varint value or start, end), nothing copied."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _varint(data, pos)
            yield number, wire_type, value, pos
        elif wire_type == _LEN:
            length, start = _varint(data, pos)
            pos = start + length
            if pos > len(data):
                raise WireError("truncated field")
            yield number, wire_type, start, pos
        elif wire_type in (_I64, _I32):
            pos += 8 if wire_type == _I64 else 4
            yield number, wire_type, 0, pos
        else:
            raise WireError(f"unsupported wire type {wire_type}")
    if pos != len(data):
        raise WireError("truncated fixed-width field")


def _fields(data: bytes) -> dict[int, int | bytes]:
    """Top-level fields: number -> varint value or length-delimited bytes (last occurrence wins)."""
    found: dict[int, int | bytes] = {}
    for number, wire_type, value, end in _top_level(data):
        if wire_type == _VARINT:
            found[number] = value
        elif wire_type == _LEN:
            found[number] = data[value:end]
    return found


@dataclass(frozen=True, slots=True)
class RequestHead:
    """What the sidecar reads of an InvokeRequest."""

    procedure: str
    api_version: int
    protocol: str


def read_request_head(data: bytes) -> RequestHead:
    """Procedure, API version and protocol of an InvokeRequest."""
    fields = _fields(data)
    try:
        procedure = _text(fields.get(REQUEST_PROCEDURE, b""))
        protocol = _text(fields.get(REQUEST_PROTOCOL, b""))
    except UnicodeDecodeError as exc:
        raise WireError("procedure name is not UTF-8") from exc
    version = fields.get(REQUEST_API_VERSION, 0)
    return RequestHead(procedure, version if isinstance(version, int) else 0, protocol or "grpc")


def read_fault_code(data: bytes) -> int | None:
    """The fault code of an InvokeResponse, or None when it holds a result."""
    fault = _fields(data).get(RESPONSE_FAULT)
    if not isinstance(fault, bytes):
        return None
    code = _fields(fault).get(FAULT_CODE, 0)
    # int32 is sign-extended to 64 bits on the wire.
    return (code - (1 << 64) if code >= 1 << 63 else code) if isinstance(code, int) else 0


def has_events(data: bytes) -> bool:
    """True when an InvokeResponse carries emitted events; reads only the keys of its top-level fields."""
    return any(number == RESPONSE_EVENTS for number, *_ in _top_level(data))


def _text(value: int | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else ""
