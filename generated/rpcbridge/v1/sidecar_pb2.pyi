import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordOutgoingCallsRequest(_message.Message):
    __slots__ = ("calls",)
    CALLS_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[OutgoingCall]
    def __init__(self, calls: _Optional[_Iterable[_Union[OutgoingCall, _Mapping]]] = ...) -> None: ...

class RecordOutgoingCallsResponse(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    def __init__(self, accepted: _Optional[int] = ...) -> None: ...

class OutgoingCall(_message.Message):
    __slots__ = ("started_at", "protocol", "procedure", "target", "outcome", "fault_code", "error", "duration_ms", "request_id", "request_bytes", "response_bytes", "arguments", "result", "user")
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FAULT_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_BYTES_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    started_at: _timestamp_pb2.Timestamp
    protocol: str
    procedure: str
    target: str
    outcome: str
    fault_code: int
    error: str
    duration_ms: float
    request_id: str
    request_bytes: int
    response_bytes: int
    arguments: str
    result: str
    user: str
    def __init__(self, started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., protocol: _Optional[str] = ..., procedure: _Optional[str] = ..., target: _Optional[str] = ..., outcome: _Optional[str] = ..., fault_code: _Optional[int] = ..., error: _Optional[str] = ..., duration_ms: _Optional[float] = ..., request_id: _Optional[str] = ..., request_bytes: _Optional[int] = ..., response_bytes: _Optional[int] = ..., arguments: _Optional[str] = ..., result: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...
