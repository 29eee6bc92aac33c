"""Neutral Python values <-> `rpcbridge.v1.Value`, and calls/outcomes <-> their messages.

Part of the one package that touches the generated stubs. The mapping is lossless both ways for
every neutral value (see `bridge.calls`); anything else raises `TypeError` so the caller can turn
it into a fault instead of changing it silently. Python's own types (tuple, set, date, UUID...)
travel as `Tagged` values, "py:" tags, whose inner value other languages may read as it is.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

from google.protobuf import struct_pb2
from google.protobuf.message import DecodeError

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.events.model import EmittedEvent
from rpcbridge.v1 import value_pb2, worker_pb2

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_EPOCH: Final = datetime.datetime(1970, 1, 1)


def to_value(value: Any) -> value_pb2.Value:
    """Encode one neutral value; raises TypeError for a value outside the neutral types."""
    message = value_pb2.Value()
    fill_value(message, value)
    return message


def fill_value(message: value_pb2.Value, value: Any) -> None:
    """Encode one neutral value into `message` in place (no copy, unlike assigning a `to_value`)."""
    try:
        if type(value) is str:  # the common argument and result, without the type ladder
            message.string_value = value
        else:
            _fill(message, value, 0)
    except UnicodeEncodeError as exc:  # JSON may carry lone surrogates; protobuf strings may not
        raise TypeError("a string holds a lone surrogate, which is not Unicode text") from exc


def _fill(message: value_pb2.Value, value: Any, depth: int) -> None:
    if depth > 256:
        raise TypeError("value nested deeper than 256 levels")
    # bool before int: bool is an int subclass.
    if value is None:
        message.null_value = struct_pb2.NULL_VALUE  # type: ignore[assignment]  # stub types enum values apart
    elif value is True or value is False:
        message.bool_value = value
    elif isinstance(value, str):
        message.string_value = value
    elif isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            message.int_value = value
        else:
            message.big_int_value = str(int(value))
    elif isinstance(value, float):
        message.double_value = value
    elif isinstance(value, bytes | bytearray):
        message.bytes_value = bytes(value)
    elif isinstance(value, datetime.datetime):
        _fill_datetime(message.datetime_value, value)
    elif isinstance(value, decimal.Decimal):
        message.decimal_value = str(value)
    elif isinstance(value, list):
        values = message.list_value.values
        message.list_value.SetInParent()
        for item in value:
            _fill(values.add(), item, depth + 1)
    elif isinstance(value, dict):
        fields = message.struct_value.fields
        message.struct_value.SetInParent()
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"struct keys must be strings, not {type(key).__name__}")
            field = fields.add(key=key)
            _fill(field.value, item, depth + 1)
    else:
        # isinstance, so a subclass (a NamedTuple, the pickle codec's UUID) travels as its base.
        kind = next((base for base in _TAGS if isinstance(value, base)), None)
        if kind is None:
            raise TypeError(f"{type(value).__name__} is not a value rpcbridge can carry")
        tag, plain = _TAGS[kind]
        message.tagged_value.tag = tag
        _fill(message.tagged_value.value, plain(value), depth + 1)


def _plain_time(value: datetime.time) -> str:
    offset = value.utcoffset()
    if offset is not None and offset % datetime.timedelta(seconds=1):
        raise TypeError("a time's UTC offset must be whole seconds")
    return value.isoformat()


def _microseconds(value: datetime.timedelta) -> int:
    return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds


# Python type -> (tag, its nearest plain value); docs/protocols.md (Values) is the table for users.
_TAGS: Final[dict[type, tuple[str, Callable[[Any], Any]]]] = {
    tuple: ("py:tuple", list),
    set: ("py:set", list),
    frozenset: ("py:frozenset", list),
    datetime.date: ("py:date", datetime.date.isoformat),
    datetime.time: ("py:time", _plain_time),
    datetime.timedelta: ("py:timedelta", _microseconds),
    uuid.UUID: ("py:uuid", str),
    complex: ("py:complex", lambda number: [number.real, number.imag]),
}


def _fill_datetime(message: value_pb2.DateTime, value: datetime.datetime) -> None:
    offset = value.utcoffset()
    delta = value.replace(tzinfo=None) - _EPOCH
    message.seconds = delta.days * 86400 + delta.seconds
    message.nanos = delta.microseconds * 1000
    if offset is not None:
        message.utc_offset_seconds = int(offset.total_seconds())


def from_value(message: value_pb2.Value) -> Any:
    """Decode one `Value` into a neutral value."""
    kind = message.WhichOneof("kind")
    if kind == "string_value":
        return message.string_value
    if kind == "int_value":
        return message.int_value
    if kind == "null_value" or kind is None:
        return None
    if kind == "bool_value":
        return message.bool_value
    if kind == "double_value":
        return message.double_value
    if kind == "list_value":
        return [from_value(item) for item in message.list_value.values]
    if kind == "struct_value":
        return {field.key: from_value(field.value) for field in message.struct_value.fields}
    if kind == "bytes_value":
        return message.bytes_value
    if kind == "big_int_value":
        return int(message.big_int_value)
    if kind == "decimal_value":
        return decimal.Decimal(message.decimal_value)
    if kind == "tagged_value":
        return _from_tagged(message.tagged_value)
    return _from_datetime(message.datetime_value)


def _from_tagged(message: value_pb2.Tagged) -> Any:
    """The tagged type; for a tag unknown here, or a value that does not fit it, the inner value."""
    plain = from_value(message.value)
    rebuild = _REBUILDERS.get(message.tag)
    if rebuild is None:
        return plain
    try:
        return rebuild(plain)
    except (TypeError, ValueError, OverflowError):
        return plain


def _rebuild_complex(plain: Any) -> complex:
    real, imag = plain
    if type(real) is not float or type(imag) is not float:
        raise TypeError("py:complex takes two doubles")
    return complex(real, imag)


def _typed(kind: type, rebuild: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`rebuild`, taking only a plain value of type `kind`: "1" is not a timedelta of 1 µs."""

    def checked(plain: Any) -> Any:
        if type(plain) is not kind:
            raise TypeError(f"expected {kind.__name__}")
        return rebuild(plain)

    return checked


_REBUILDERS: Final[dict[str, Callable[[Any], Any]]] = {
    "py:tuple": _typed(list, tuple),
    "py:set": _typed(list, set),
    "py:frozenset": _typed(list, frozenset),
    "py:date": _typed(str, datetime.date.fromisoformat),
    "py:time": _typed(str, datetime.time.fromisoformat),
    "py:timedelta": _typed(int, lambda micro: datetime.timedelta(microseconds=micro)),
    "py:uuid": _typed(str, uuid.UUID),
    "py:complex": _typed(list, _rebuild_complex),
}


def _from_datetime(message: value_pb2.DateTime) -> datetime.datetime:
    wall = _EPOCH + datetime.timedelta(seconds=message.seconds, microseconds=message.nanos // 1000)
    if message.HasField("utc_offset_seconds"):
        offset = datetime.timedelta(seconds=message.utc_offset_seconds)
        return wall.replace(tzinfo=datetime.timezone(offset))
    return wall


def call_to_request(call: Call, api_version: int = 0, protocol: str = "") -> worker_pb2.InvokeRequest:
    """Encode a call; raises TypeError when an argument is outside the neutral types."""
    request = worker_pb2.InvokeRequest(procedure=call.procedure, api_version=api_version, protocol=protocol)
    # Each value is filled in place in the repeated field: extending with built messages copies them.
    if call.named is not None:
        request.by_name = True
        named_params = request.named_params
        for key, item in call.named.items():
            fill_value(named_params.add(key=key).value, item)
    else:
        params = request.params
        for item in call.params:
            fill_value(params.add(), item)
    return request


def request_to_call(request: worker_pb2.InvokeRequest) -> Call:
    """Decode a call."""
    if request.by_name or request.named_params:
        named = {field.key: from_value(field.value) for field in request.named_params}
        return Call(request.procedure, (), named)
    return Call(request.procedure, tuple(from_value(item) for item in request.params))


def outcome_to_response(outcome: Outcome, events: Sequence[EmittedEvent] = ()) -> worker_pb2.InvokeResponse:
    """Encode an outcome and the events emitted with it; TypeError for a value outside the neutral types."""
    response = worker_pb2.InvokeResponse()
    if events:
        response.events.extend(_event_message(event) for event in events)
    if isinstance(outcome, Success):
        fill_value(response.result, outcome.value)
        return response
    fault = response.fault
    fault.code = outcome.code
    fault.message = outcome.message
    if outcome.data is not None:
        fill_value(fault.data, outcome.data)
    return response


def _event_message(event: EmittedEvent) -> worker_pb2.EmittedEvent:
    message = worker_pb2.EmittedEvent(type=event.type)
    for key, item in event.data.items():
        fill_value(message.data.add(key=key).value, item)
    _fill_datetime(message.timestamp, event.timestamp.astimezone(datetime.UTC))
    return message


def emitted_events(response: worker_pb2.InvokeResponse) -> list[EmittedEvent]:
    """Decode the events of a response; a timestamp without an offset is read as UTC."""
    events = []
    for message in response.events:
        moment = _from_datetime(message.timestamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        data = {field.key: from_value(field.value) for field in message.data}
        events.append(EmittedEvent(message.type, data, moment.astimezone(datetime.UTC)))
    return events


def lift_leading_params(request: bytes, count: int) -> tuple[list[Any], bytes]:
    """Take the first `count` positional params out of serialized InvokeRequest bytes.

    Raises ValueError when the request does not parse or has fewer positional params.
    """
    try:
        message = worker_pb2.InvokeRequest.FromString(request)
    except DecodeError as exc:
        raise ValueError("malformed InvokeRequest") from exc
    if message.by_name or len(message.params) < count:
        raise ValueError(f"expected at least {count} positional params")
    leading = [from_value(item) for item in message.params[:count]]
    del message.params[:count]
    return leading, message.SerializeToString()


def response_to_outcome(response: worker_pb2.InvokeResponse) -> Outcome:
    """Decode an outcome."""
    if response.WhichOneof("outcome") == "fault":
        message = response.fault
        data = from_value(message.data) if message.HasField("data") else None
        return Fault(message.code, message.message, data)
    return Success(from_value(response.result))
