from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuthenticateSocketRequest(_message.Message):
    __slots__ = ("form", "user", "nonce", "timestamp", "signature", "method", "path", "body_sha256")
    FORM_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    BODY_SHA256_FIELD_NUMBER: _ClassVar[int]
    form: str
    user: str
    nonce: str
    timestamp: str
    signature: str
    method: str
    path: str
    body_sha256: str
    def __init__(self, form: _Optional[str] = ..., user: _Optional[str] = ..., nonce: _Optional[str] = ..., timestamp: _Optional[str] = ..., signature: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., body_sha256: _Optional[str] = ...) -> None: ...

class AuthenticateSocketResponse(_message.Message):
    __slots__ = ("token", "user", "key_id", "scopes")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    token: str
    user: str
    key_id: int
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, token: _Optional[str] = ..., user: _Optional[str] = ..., key_id: _Optional[int] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("hello", "event", "control")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    hello: StreamHello
    event: StreamedEvent
    control: SocketControl
    def __init__(self, hello: _Optional[_Union[StreamHello, _Mapping]] = ..., event: _Optional[_Union[StreamedEvent, _Mapping]] = ..., control: _Optional[_Union[SocketControl, _Mapping]] = ...) -> None: ...

class StreamHello(_message.Message):
    __slots__ = ("epoch", "offset")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    offset: int
    def __init__(self, epoch: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class StreamedEvent(_message.Message):
    __slots__ = ("id", "type", "offset", "data_json", "auth")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    offset: int
    data_json: bytes
    auth: bool
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., offset: _Optional[int] = ..., data_json: _Optional[bytes] = ..., auth: _Optional[bool] = ...) -> None: ...

class SocketControl(_message.Message):
    __slots__ = ("user", "key_id", "reason")
    USER_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user: str
    key_id: int
    reason: str
    def __init__(self, user: _Optional[str] = ..., key_id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ReadEventsRequest(_message.Message):
    __slots__ = ("after", "limit")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    after: int
    limit: int
    def __init__(self, after: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ReadEventsResponse(_message.Message):
    __slots__ = ("epoch", "reaches_back", "offset", "events")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    REACHES_BACK_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    reaches_back: bool
    offset: int
    events: _containers.RepeatedCompositeFieldContainer[StreamedEvent]
    def __init__(self, epoch: _Optional[str] = ..., reaches_back: _Optional[bool] = ..., offset: _Optional[int] = ..., events: _Optional[_Iterable[_Union[StreamedEvent, _Mapping]]] = ...) -> None: ...
