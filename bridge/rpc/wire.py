"""Reads the few top-level fields the sidecar routes and logs by, straight from protobuf bytes.

The sidecar proxies calls at the bytes level (DESIGN.md): it must know an InvokeRequest's
procedure and API version, and whether an InvokeResponse is a fault, without decoding arguments or
results. Pure; knows the protobuf wire format (https://protobuf.dev/programming-guides/encoding/).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.errors import BridgeError

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# Field numbers from proto/rpcbridge/v1/worker.proto; tests/unit/sidecar/test_wire.py checks them
# against the generated descriptors, so a proto change cannot silently break routing.
REQUEST_PROCEDURE = 1  # InvokeRequest.procedure
REQUEST_API_VERSION = 4  # InvokeRequest.api_version
REQUEST_PROTOCOL = 5  # InvokeRequest.protocol
RESPONSE_FAULT = 2  # InvokeResponse.fault (oneof outcome)
FAULT_CODE = 1  # Fault.code
_REQUEST_HEAD = frozenset({REQUEST_PROCEDURE, REQUEST_API_VERSION, REQUEST_PROTOCOL})
_RESPONSE_FAULT = frozenset({RESPONSE_FAULT})
_FAULT_CODE = frozenset({FAULT_CODE})


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


def _fields(data: bytes, keep: frozenset[int]) -> dict[int, int | bytes]:
    """Top-level fields numbered in `keep`: number -> varint value or length-delimited bytes (last
    occurrence wins). Every field is checked; only kept ones are copied out (arguments are not)."""
    found: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            found[number], pos = _varint(data, pos)
        elif wire_type == _LEN:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise WireError("truncated field")
            if number in keep:
                found[number] = data[pos : pos + length]
            pos += length
        elif wire_type == _I64:
            pos += 8
        elif wire_type == _I32:
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")
    if pos != len(data):
        raise WireError("truncated fixed-width field")
    return found


@dataclass(frozen=True, slots=True)
class RequestHead:
    """What the sidecar reads of an InvokeRequest."""

    procedure: str
    api_version: int
    protocol: str


def read_request_head(data: bytes) -> RequestHead:
    """Procedure, API version and protocol of an InvokeRequest."""
    fields = _fields(data, _REQUEST_HEAD)
    try:
        procedure = _text(fields.get(REQUEST_PROCEDURE, b""))
        protocol = _text(fields.get(REQUEST_PROTOCOL, b""))
    except UnicodeDecodeError as exc:
        raise WireError("procedure name is not UTF-8") from exc
    version = fields.get(REQUEST_API_VERSION, 0)
    return RequestHead(procedure, version if isinstance(version, int) else 0, protocol or "grpc")


def read_fault_code(data: bytes) -> int | None:
    """The fault code of an InvokeResponse, or None when it holds a result."""
    fault = _fields(data, _RESPONSE_FAULT).get(RESPONSE_FAULT)
    if not isinstance(fault, bytes):
        return None
    code = _fields(fault, _FAULT_CODE).get(FAULT_CODE, 0)
    # int32 is sign-extended to 64 bits on the wire.
    return (code - (1 << 64) if code >= 1 << 63 else code) if isinstance(code, int) else 0


def _text(value: int | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else ""
