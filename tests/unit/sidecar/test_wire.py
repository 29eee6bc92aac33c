"""wire.py: the sidecar's hand-written protobuf reader agrees with the proto and the real encoder."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import FieldDescriptor

from bridge.rpc import wire
from bridge.rpc.wire import RequestHead, WireError, has_events, read_fault_code, read_request_head
from rpcbridge.v1 import value_pb2, worker_pb2


@pytest.mark.parametrize(
    ("message", "field", "number", "kind"),
    [
        (worker_pb2.InvokeRequest, "procedure", wire.REQUEST_PROCEDURE, FieldDescriptor.TYPE_STRING),
        (worker_pb2.InvokeRequest, "api_version", wire.REQUEST_API_VERSION, FieldDescriptor.TYPE_UINT32),
        (worker_pb2.InvokeRequest, "protocol", wire.REQUEST_PROTOCOL, FieldDescriptor.TYPE_STRING),
        (worker_pb2.InvokeResponse, "fault", wire.RESPONSE_FAULT, FieldDescriptor.TYPE_MESSAGE),
        (worker_pb2.Fault, "code", wire.FAULT_CODE, FieldDescriptor.TYPE_INT32),
        (worker_pb2.InvokeResponse, "events", wire.RESPONSE_EVENTS, FieldDescriptor.TYPE_MESSAGE),
    ],
)
def test_field_numbers_match_generated_descriptors(message: type, field: str, number: int, kind: int) -> None:
    """Each field number and type wire.py relies on is the one the proto declares."""
    descriptor = message.DESCRIPTOR.fields_by_name[field]  # type: ignore[attr-defined]
    assert (descriptor.number, descriptor.type) == (number, kind)


def test_fault_is_in_the_outcome_oneof() -> None:
    """InvokeResponse.fault shares the `outcome` oneof with `result`, so its presence means a fault."""
    fields = worker_pb2.InvokeResponse.DESCRIPTOR.oneofs_by_name["outcome"].fields
    assert {f.name for f in fields} == {"result", "fault"}


def test_reads_head_of_a_real_request() -> None:
    """A request encoded by protobuf, with arguments, yields its procedure, version and protocol."""
    request = worker_pb2.InvokeRequest(
        procedure="math.add",
        params=[value_pb2.Value(int_value=1), value_pb2.Value(string_value="x" * 300)],
        api_version=3,
        protocol="xmlrpc",
        by_name=True,
    )
    assert read_request_head(request.SerializeToString()) == RequestHead("math.add", 3, "xmlrpc")


def test_empty_request_defaults() -> None:
    """Absent fields read as proto3 defaults; the protocol of a bare gRPC call is "grpc"."""
    assert read_request_head(b"") == RequestHead("", 0, "grpc")


@pytest.mark.parametrize("code", [0, 7, -32601, -(1 << 31), (1 << 31) - 1])
def test_reads_fault_code_of_a_real_response(code: int) -> None:
    """Fault codes, negative ones included (int32 sign-extended on the wire), come back exactly."""
    response = worker_pb2.InvokeResponse(fault=worker_pb2.Fault(code=code, message="no"))
    assert read_fault_code(response.SerializeToString()) == code


def test_result_is_no_fault() -> None:
    """A response holding a result has no fault code."""
    response = worker_pb2.InvokeResponse(result=value_pb2.Value(int_value=-5))
    assert read_fault_code(response.SerializeToString()) is None


def test_skips_fixed_width_fields() -> None:
    """64- and 32-bit fields the reader does not use are skipped, not misread."""
    fixed64 = bytes([(9 << 3) | 1]) + bytes(8)
    fixed32 = bytes([(10 << 3) | 5]) + bytes(4)
    data = fixed64 + worker_pb2.InvokeRequest(procedure="p").SerializeToString() + fixed32
    assert read_request_head(data).procedure == "p"


@pytest.mark.parametrize(
    "data",
    [
        b"\x0a\x05abc",  # length runs past the end
        b"\x20\xff",  # varint never ends
        b"\x20" + b"\xff" * 11 + b"\x01",  # varint longer than 64 bits
        b"\x49\x00\x00",  # fixed64 cut short
        b"\x0b",  # group start (wire type 3) is not supported
    ],
)
def test_malformed_bytes_raise_wire_error(data: bytes) -> None:
    """Truncated or unsupported input is a WireError, never an IndexError or a wrong answer."""
    with pytest.raises(WireError):
        read_request_head(data)


def test_procedure_name_must_be_utf8() -> None:
    """A procedure name that is not UTF-8 is a WireError."""
    with pytest.raises(WireError):
        read_request_head(b"\x0a\x02\xff\xfe")


def test_has_events_sees_only_a_present_events_field() -> None:
    """A reply with events is seen as such; results and faults without events are not, whatever they hold."""
    event = worker_pb2.EmittedEvent(type="person.saved")
    with_events = worker_pb2.InvokeResponse(result=value_pb2.Value(string_value="x" * 300), events=[event])
    assert has_events(with_events.SerializeToString())
    plain = worker_pb2.InvokeResponse(result=value_pb2.Value(string_value="\x1a" * 300))
    assert not has_events(plain.SerializeToString())
    faulted = worker_pb2.InvokeResponse(fault=worker_pb2.Fault(code=-1, message="m"))
    assert not has_events(faulted.SerializeToString())
    assert not has_events(b"")
