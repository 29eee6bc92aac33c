"""The JSON body of a webhook delivery, `{"id", "type", "timestamp", "data"}`, written with orjson.

Pure: the standard library and orjson; never grpc, aiohttp or a store.

Neutral values map onto JSON as follows (docs/events.md, "Delivery body", says the same):

    None, bool, str                    null, true/false, string
    int within signed 64 bits          number
    int beyond signed 64 bits          string of its decimal digits ("123456789012345678901234567890")
    float, finite                      number (shortest text that reads back as the same double)
    float NaN, inf, -inf               the strings "NaN", "Infinity", "-Infinity"
    decimal.Decimal                    string, exactly `str(Decimal)` ("1.10", "NaN", "-Infinity")
    bytes                              string, standard base64 with padding (RFC 4648 section 4)
    datetime, aware                    RFC 3339 string with its offset, UTC as "Z"
                                       ("2026-12-01T15:12:08.123456Z", "2026-12-01T17:12:08+02:00")
    datetime, naive                    RFC 3339 date-time without an offset ("2026-12-01T15:12:08");
                                       the worker said nothing of its zone, so neither does the body
    list, tuple                        array
    dict                               object, keys in the worker's order

The event's own `timestamp` is always aware UTC, so always ends in "Z". A value outside the neutral
types, or a string holding a lone surrogate (which has no UTF-8 form), raises `TypeError`.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import math
from typing import Any, Final

import orjson

from bridge.events.model import Event

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_FLOAT_NAMES: Final = {math.inf: "Infinity", -math.inf: "-Infinity"}
_OPTIONS: Final = orjson.OPT_UTC_Z


def encode_delivery_body(event: Event) -> bytes:
    """The body POSTed to a webhook listener: compact UTF-8 JSON with exactly four keys."""
    document = {
        "id": event.id,
        "type": event.type,
        "timestamp": event.timestamp,
        "data": _jsonable(event.data, 0),
    }
    try:
        return orjson.dumps(document, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"event {event.id} data cannot be written as JSON: {exc}") from exc


def encode_event_data(data: Any) -> str:
    """An event's data as the JSON text the delivery body carries (what a store keeps); TypeError if unfit."""
    try:
        return orjson.dumps(_jsonable(data, 0), option=_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"event data cannot be written as JSON: {exc}") from exc


def _jsonable(value: Any, depth: int) -> Any:
    """`value` with what orjson would refuse or change (big ints, NaN, bytes, Decimal) rewritten."""
    if depth > 256:
        raise TypeError("event data nested deeper than 256 levels")
    if value is None or isinstance(value, bool | str | datetime.datetime):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return _FLOAT_NAMES.get(value, value)
    if isinstance(value, dict):
        return {key: _jsonable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item, depth + 1) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a value an event can carry")
