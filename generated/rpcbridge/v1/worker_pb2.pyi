from rpcbridge.v1 import value_pb2 as _value_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InvokeRequest(_message.Message):
    __slots__ = ("procedure", "params", "named_params", "api_version", "protocol", "by_name")
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    NAMED_PARAMS_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    BY_NAME_FIELD_NUMBER: _ClassVar[int]
    procedure: str
    params: _containers.RepeatedCompositeFieldContainer[_value_pb2.Value]
    named_params: _containers.RepeatedCompositeFieldContainer[_value_pb2.StructField]
    api_version: int
    protocol: str
    by_name: bool
    def __init__(self, procedure: _Optional[str] = ..., params: _Optional[_Iterable[_Union[_value_pb2.Value, _Mapping]]] = ..., named_params: _Optional[_Iterable[_Union[_value_pb2.StructField, _Mapping]]] = ..., api_version: _Optional[int] = ..., protocol: _Optional[str] = ..., by_name: _Optional[bool] = ...) -> None: ...

class InvokeResponse(_message.Message):
    __slots__ = ("result", "fault", "events")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    result: _value_pb2.Value
    fault: Fault
    events: _containers.RepeatedCompositeFieldContainer[EmittedEvent]
    def __init__(self, result: _Optional[_Union[_value_pb2.Value, _Mapping]] = ..., fault: _Optional[_Union[Fault, _Mapping]] = ..., events: _Optional[_Iterable[_Union[EmittedEvent, _Mapping]]] = ...) -> None: ...

class EmittedEvent(_message.Message):
    __slots__ = ("type", "data", "timestamp")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    type: str
    data: _containers.RepeatedCompositeFieldContainer[_value_pb2.StructField]
    timestamp: _value_pb2.DateTime
    def __init__(self, type: _Optional[str] = ..., data: _Optional[_Iterable[_Union[_value_pb2.StructField, _Mapping]]] = ..., timestamp: _Optional[_Union[_value_pb2.DateTime, _Mapping]] = ...) -> None: ...

class Fault(_message.Message):
    __slots__ = ("code", "message", "data")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    data: _value_pb2.Value
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., data: _Optional[_Union[_value_pb2.Value, _Mapping]] = ...) -> None: ...

class InvokeStreamRequest(_message.Message):
    __slots__ = ("calls",)
    CALLS_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[StreamedCall]
    def __init__(self, calls: _Optional[_Iterable[_Union[StreamedCall, _Mapping]]] = ...) -> None: ...

class StreamedCall(_message.Message):
    __slots__ = ("id", "request", "metadata", "timeout_seconds")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: int
    request: bytes
    metadata: _containers.ScalarMap[str, str]
    timeout_seconds: float
    def __init__(self, id: _Optional[int] = ..., request: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, str]] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class InvokeStreamResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[StreamedResult]
    def __init__(self, results: _Optional[_Iterable[_Union[StreamedResult, _Mapping]]] = ...) -> None: ...

class StreamedResult(_message.Message):
    __slots__ = ("id", "response", "status", "details")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    id: int
    response: bytes
    status: int
    details: str
    def __init__(self, id: _Optional[int] = ..., response: _Optional[bytes] = ..., status: _Optional[int] = ..., details: _Optional[str] = ...) -> None: ...

class ListProceduresRequest(_message.Message):
    __slots__ = ("api_version",)
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    api_version: int
    def __init__(self, api_version: _Optional[int] = ...) -> None: ...

class ListProceduresResponse(_message.Message):
    __slots__ = ("procedures", "hooks")
    PROCEDURES_FIELD_NUMBER: _ClassVar[int]
    HOOKS_FIELD_NUMBER: _ClassVar[int]
    procedures: _containers.RepeatedCompositeFieldContainer[Procedure]
    hooks: _containers.RepeatedCompositeFieldContainer[Hook]
    def __init__(self, procedures: _Optional[_Iterable[_Union[Procedure, _Mapping]]] = ..., hooks: _Optional[_Iterable[_Union[Hook, _Mapping]]] = ...) -> None: ...

class Hook(_message.Message):
    __slots__ = ("name", "fields", "help", "auth")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    help: str
    auth: bool
    def __init__(self, name: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., help: _Optional[str] = ..., auth: _Optional[bool] = ...) -> None: ...

class Procedure(_message.Message):
    __slots__ = ("name", "help", "params", "returns", "auth", "versions", "background", "variadic", "sensitive_params")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    BACKGROUND_FIELD_NUMBER: _ClassVar[int]
    VARIADIC_FIELD_NUMBER: _ClassVar[int]
    SENSITIVE_PARAMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    help: str
    params: _containers.RepeatedCompositeFieldContainer[Parameter]
    returns: str
    auth: bool
    versions: _containers.RepeatedScalarFieldContainer[int]
    background: bool
    variadic: bool
    sensitive_params: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., help: _Optional[str] = ..., params: _Optional[_Iterable[_Union[Parameter, _Mapping]]] = ..., returns: _Optional[str] = ..., auth: _Optional[bool] = ..., versions: _Optional[_Iterable[int]] = ..., background: _Optional[bool] = ..., variadic: _Optional[bool] = ..., sensitive_params: _Optional[_Iterable[str]] = ...) -> None: ...

class Parameter(_message.Message):
    __slots__ = ("name", "type", "optional")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    optional: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., optional: _Optional[bool] = ...) -> None: ...
