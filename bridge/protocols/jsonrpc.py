"""The JSON-RPC 2.0 codec (https://www.jsonrpc.org/specification): bytes to `Call`, `Outcome` to bytes.

Pure: imports only the standard library, orjson and the neutral vocabulary (`bridge.calls`,
`bridge.errors`, `bridge.faults`, `bridge.settings`); never aiohttp, grpc, asyncio or another codec.

Value mapping, JSON to neutral value and back:

    JSON                               neutral value
    null, true, false                  None, True, False (bool stays bool, never 0/1)
    string                             str
    array                              list
    object                             dict with str keys, in document order
    number without fraction/exponent   int, of any size, written back exactly
    number with fraction or exponent   float (finite only; see below)

Encoding, neutral value to JSON:

    finite float                       number, repr-exact (`0.1` stays `0.1`)
    NaN, Infinity, -Infinity           refused: VALUE_NOT_REPRESENTABLE (JSON has no such numbers)
    decimal.Decimal, finite            number, written exactly as `str(Decimal)`; it comes back as an
                                       int or float, since JSON numbers carry no type
    decimal.Decimal, NaN or infinite   refused: VALUE_NOT_REPRESENTABLE
    bytes                              refused: VALUE_NOT_REPRESENTABLE (JSON has no binary type)
    datetime.datetime                  refused: VALUE_NOT_REPRESENTABLE (JSON has no datetime; the
                                       bridge refuses rather than silently sending a string)
    tuple, set, frozenset              array (comes back as a list; a set's members in iteration order)
    dict key that is not a str         refused: VALUE_NOT_REPRESENTABLE (JSON would turn it into a str)
    datetime.date                      string "YYYY-MM-DD" (ISO 8601)
    datetime.time                      string as time.isoformat() writes it ("14:08:55+02:00")
    datetime.timedelta                 number of seconds (total_seconds())
    uuid.UUID                          string "12345678-1234-5678-1234-567812345678"
    complex                            array [real, imaginary]; refused when either is not finite

The last six are Python's own types, which pickle-over-HTTP callers and Python workers exchange
(docs/protocols.md, Values); a JSON-RPC client receives their nearest JSON type.

A refused result becomes that member's error reply (code -32007, the detail in `data`), never a
silent change. Choices where the specifications leave room:

- Duplicate object keys (RFC 8259 section 4: names SHOULD be unique): the last one wins, as in most
  parsers. `NaN`, `Infinity` and `-Infinity` literals are not JSON and are parse errors.
- A number whose value overflows a double (`1e400`) is refused (VALUE_NOT_REPRESENTABLE) rather than
  read as infinity; one too small (`1e-400`) rounds to 0.0, like any decimal fraction. An integer of
  more digits than Python converts (`sys.get_int_max_str_digits()`, 4300 by default, a guard against
  quadratic conversion) is refused as REQUEST_TOO_LARGE. Either fails the whole body.
- A leading UTF-8 byte order mark is ignored (RFC 8259 section 8.1 allows it); any other encoding
  than UTF-8 is a parse error.
- Request members the specification does not define (say `"auth"`) are ignored, so that legacy
  clients which add their own members keep working.
- A string holding a lone surrogate (`"\\ud800"`, legal JSON escape) has no UTF-8 form; a reply that
  holds one is written with ASCII escapes, which keep its value. A high surrogate followed by a low
  one (two code points in Python) is refused (VALUE_NOT_REPRESENTABLE): JSON reads that pair of
  escapes as one character beyond U+FFFF (RFC 8259 section 7), which would change the string.

Speed without a changed value: bodies are read and written with orjson, and with the standard
library's `json` (the exact path, which defines every result above) wherever orjson could differ:
a body holding a run of 19 or more digits (orjson reads an integer beyond 64 bits as a float), a
body orjson refuses (the exact path then gives the usual answer or error), a value holding a
Decimal or a float below 1e-4 in magnitude (which orjson spells `0.00001` where `repr` has `1e-05`),
and a value orjson refuses to write (an integer beyond 64 bits, a lone surrogate, deep nesting).
Either way the bytes written are the same.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Final, TypeAlias

import orjson

from bridge.calls import ABSENT, Absent, Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    REQUEST_TOO_LARGE,
    VALUE_NOT_REPRESENTABLE,
    fault,
)
from bridge.settings import Limits

__all__ = [
    "JsonId",
    "Message",
    "Request",
    "decode_batch_response",
    "decode_message",
    "decode_response",
    "encode_error",
    "encode_replies",
    "encode_request",
]

JsonId: TypeAlias = str | int | float | None
"""A request id: "MUST contain a String, Number, or NULL value if included" (section 4)."""


@dataclass(frozen=True, slots=True)
class Request:
    """One member of a JSON-RPC message: a call to make, or the error its reply must carry.

    `id` is `ABSENT` for a notification, which gets no reply; that differs from an `id` of null.
    """

    id: JsonId | Absent
    call: Call | None = None
    error: Fault | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded JSON-RPC request body: one request, or the members of a batch in order."""

    requests: tuple[Request, ...]
    batch: bool


# --------------------------------------------------------------------------------------------- parsing

_BOM: Final = b"\xef\xbb\xbf"
# The rpc-internal extensions the bridge implements (section 4): OpenRPC's service discovery
# (https://spec.open-rpc.org/#service-discovery-method), answered by the frontend (bridge.openrpc).
RPC_EXTENSIONS: Final = frozenset({"rpc.discover"})
# A JSON string, escapes included; an unterminated one runs to the end, where the parser rejects it.
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS: Final = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_STEP: Final = tuple(1 if byte in b"[{" else -1 for byte in range(256))
# orjson reads an integer beyond 64 bits as a float; any run of this many digits (even inside a
# string, which only costs the exact path) may be one: 10**18 has 19 digits, 2**63 too.
_LONG_DIGITS: Final = re.compile(rb"[0-9]{19,}")


def _refuse_constant(name: str) -> Any:
    """Refuse `NaN`, `Infinity` and `-Infinity`, which Python's parser accepts but JSON does not."""
    raise fault(PARSE_ERROR)


def _parse_float(text: str) -> float:
    """Read a JSON number with a fraction or exponent, refusing one beyond the range of a double."""
    value = float(text)
    if math.isinf(value):
        raise fault(VALUE_NOT_REPRESENTABLE, data=f"the number {text[:40]} is beyond the range of a double")
    return value


_DECODER: Final = json.JSONDecoder(parse_float=_parse_float, parse_constant=_refuse_constant)


def _check_depth(body: bytes, max_depth: int) -> None:
    """Refuse nesting deeper than `max_depth` with a scan of brackets outside strings, before parsing.

    The parser recurses once per level, so deep input must never reach it.
    """
    # Counting every bracket over-estimates the depth, so a small count settles it in C.
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > max_depth:
        raise fault(REQUEST_TOO_LARGE, data=f"nesting is deeper than the limit of {max_depth}")


def _parse(body: bytes, limits: Limits) -> Any:
    """Parse a JSON text of UTF-8 bytes within the limits, or raise the fault that says why not."""
    if len(body) > limits.max_body_bytes:
        raise fault(
            REQUEST_TOO_LARGE,
            data=f"body of {len(body)} bytes is over the limit of {limits.max_body_bytes} bytes",
        )
    _check_depth(body, limits.max_depth)
    if body.startswith(_BOM):
        body = body[len(_BOM) :]
    if not _LONG_DIGITS.search(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # the exact path says why, in its own words, or reads what orjson refuses
    return _parse_exact(body)


def _parse_exact(body: bytes) -> Any:
    """The standard library's reading of `body` (no BOM), which defines every result of `_parse`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fault(PARSE_ERROR) from exc
    # Only these four are whitespace in JSON (RFC 8259 section 2); strip() returns `text` itself
    # when there is nothing to strip, which is cheaper than the regular expressions of decode().
    text = text.strip(" \t\n\r")
    try:
        document, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError as exc:
        raise fault(PARSE_ERROR) from exc
    except RecursionError as exc:
        raise fault(REQUEST_TOO_LARGE, data="nesting is too deep to parse") from exc
    except ValueError as exc:
        # The one other ValueError the parser raises: an integer beyond sys.get_int_max_str_digits().
        raise fault(
            REQUEST_TOO_LARGE, data=f"a number has more than {sys.get_int_max_str_digits()} digits"
        ) from exc
    if end != len(text):
        raise fault(PARSE_ERROR)
    return document


# --------------------------------------------------------------------------------------- server side


def _valid_id(value: object) -> bool:
    """Section 4, id: "MUST contain a String, Number, or NULL value if included" (a bool is neither)."""
    kind = type(value)
    return value is None or kind is str or kind is int or kind is float


def _request(member: object, extensions: frozenset[str] = frozenset()) -> Request:
    """Turn one request object into a `Request`, or into the error its reply must carry.

    `extensions` are the `rpc.` methods the transport offers (the WebSocket's `rpc.subscribe`...),
    beside `RPC_EXTENSIONS`, which every transport answers.

    Section 4: jsonrpc "MUST be exactly "2.0""; method is "A String containing the name of the
    method to be invoked"; params "MUST be provided as a Structured value. Either by-position
    through an Array or by-name through an Object" (section 4.2) and "MAY be omitted"; an id
    that is not included makes the request a notification (section 4.1).
    """
    if type(member) is not dict:
        return Request(None, error=fault(INVALID_REQUEST))
    request_id = member.get("id", ABSENT)
    if request_id is not ABSENT and not _valid_id(request_id):
        # Section 5, id: "If there was an error in detecting the id ... it MUST be Null."
        return Request(None, error=fault(INVALID_REQUEST))
    # An invalid member is answered even without an id, with id null, as section 7 shows for
    # {"jsonrpc": "2.0", "method": 1, "params": "bar"}.
    reply_id = None if request_id is ABSENT else request_id
    method = member.get("method")
    if member.get("jsonrpc") != "2.0" or type(method) is not str:
        return Request(reply_id, error=fault(INVALID_REQUEST))
    params = member.get("params", ABSENT)
    if params is ABSENT:
        call = Call(method)
    elif type(params) is list:
        call = Call(method, tuple(params))
    elif type(params) is dict:
        call = Call(method, (), params)
    else:
        return Request(reply_id, error=fault(INVALID_REQUEST))
    if method.startswith("rpc.") and method not in RPC_EXTENSIONS and method not in extensions:
        # Section 4: "Method names that begin with the word rpc followed by a period character
        # (U+002E or ASCII 46) are reserved for rpc-internal methods and extensions and MUST NOT
        # be used for anything else." A valid notification stays one: no reply, even for this.
        return Request(request_id, error=fault(METHOD_NOT_FOUND))
    return Request(request_id, call)


def decode_message(body: bytes, limits: Limits, extensions: frozenset[str] = frozenset()) -> Message:
    """Decode a request body: one request object, or a batch (section 6) of them.

    Raises `Fault` (answered with `encode_error`, id null) when the body as a whole is unusable:
    PARSE_ERROR for bytes that are not UTF-8 JSON; INVALID_REQUEST for a value that is neither
    object nor array, or for an empty array (section 6: "If the batch rpc call itself fails to be
    recognized as an valid JSON or as an Array with at least one value, the response from the
    Server MUST be a single Response object"); REQUEST_TOO_LARGE when the body, its nesting or the
    batch is over `limits`. A member that is not a valid request is not raised: its `Request`
    carries the error for its reply. `extensions`: the `rpc.` methods the transport offers.
    """
    document = _parse(body, limits)
    if type(document) is dict:
        return Message((_request(document, extensions),), batch=False)
    if type(document) is not list or not document:
        raise fault(INVALID_REQUEST)
    if len(document) > limits.max_batch:
        raise fault(
            REQUEST_TOO_LARGE,
            data=f"batch of {len(document)} requests is over the limit of {limits.max_batch}",
        )
    return Message(tuple(_request(member, extensions) for member in document), batch=True)


# ------------------------------------------------------------------------------------------ encoding


def _nearest(value: Any) -> Any:
    """The JSON value for one of Python's own types that `_scan` let through (the table above)."""
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, complex):
        return [value.real, value.imag]
    return str(value)  # uuid.UUID, the one type left that _scan admits


_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    separators=(",", ":"),
    # `_scan` walks every value first and fails on a cycle (RecursionError), so no need to track ids.
    check_circular=False,
    default=_nearest,
)
_ASCII_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=True, allow_nan=False, separators=(",", ":"), check_circular=False, default=_nearest
)
# Ints up to this size convert to text under any sys.set_int_max_str_digits() (at least 640 digits).
_SAFE_INT_BITS: Final = 2000
_ORJSON_PLAIN_BELOW: Final = 1e-4
_SURROGATE_PAIR: Final = re.compile("[\ud800-\udbff][\udc00-\udfff]")


class _Unrepresentable(Exception):
    """Raised inside `_scan` for a value JSON cannot express; `path` grows as the walk unwinds."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
        self.path: list[str] = []


def _scan(value: object) -> bool:
    """Check that JSON can express `value` unchanged.

    True when only the exact path writes it as `repr` does: it holds a Decimal, or a float that
    orjson spells differently.
    """
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE_PAIR.search(value):
            raise _Unrepresentable("a str holding a surrogate pair, which JSON reads as one character")
        return False
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        if value.bit_length() > _SAFE_INT_BITS:
            try:
                repr(value)
            except ValueError:
                raise _Unrepresentable("an int too long to write as text") from None
        return False
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unrepresentable(f"the float {value!r}, which JSON cannot express")
        # orjson writes these without repr's exponent form (0.00001 for 1e-05); others alike.
        return 0.0 < abs(value) < _ORJSON_PLAIN_BELOW
    exact_only = False
    if isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            try:
                exact_only |= _scan(item)
            except _Unrepresentable as problem:
                problem.path.append(f"[{index}]")
                raise
        return exact_only
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unrepresentable(f"an object with a key of type {type(key).__name__}")
            if not key.isascii() and _SURROGATE_PAIR.search(key):
                raise _Unrepresentable("an object with a key holding a surrogate pair")
            try:
                exact_only |= _scan(item)
            except _Unrepresentable as problem:
                problem.path.append(f"[{json.dumps(key)}]")
                raise
        return exact_only
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _Unrepresentable(f"the decimal {value}, which JSON cannot express")
        return True
    if isinstance(value, (bytes, bytearray)):
        raise _Unrepresentable("bytes, which JSON cannot express")
    if isinstance(value, datetime.datetime):
        raise _Unrepresentable("a datetime, which JSON cannot express")
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta | uuid.UUID):
        return False
    if isinstance(value, complex):
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            raise _Unrepresentable(f"the complex {value!r}, which JSON cannot express")
        return False
    raise _Unrepresentable(f"of type {type(value).__name__}, which JSON cannot express")


def _spelled_apart(reply_id: JsonId) -> bool:
    """True for an id only the exact path writes as `repr` does (a float orjson spells differently)."""
    return isinstance(reply_id, float) and 0.0 < abs(reply_id) < _ORJSON_PLAIN_BELOW


def _check(value: object, where: str) -> bool:
    """Raise VALUE_NOT_REPRESENTABLE, naming the place, unless JSON can express `value` unchanged."""
    try:
        return _scan(value)
    except _Unrepresentable as problem:
        place = where + "".join(reversed(problem.path))
        raise fault(VALUE_NOT_REPRESENTABLE, data=f"{place} is {problem.what}") from None
    except RecursionError:
        raise fault(VALUE_NOT_REPRESENTABLE, data=f"{where} is nested too deeply") from None


def _render(value: Any, encoder: json.JSONEncoder) -> str:
    """Write JSON holding Decimals, each as the number text `str(Decimal)` (the slow path)."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        members = (f"{encoder.encode(key)}:{_render(item, encoder)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ",".join(_render(item, encoder) for item in value) + "]"
    return encoder.encode(value)


def _serialize(document: Any, exact_only: bool) -> bytes:
    """Write a checked document as compact UTF-8 JSON."""
    if not exact_only:
        try:
            return orjson.dumps(document)
        except orjson.JSONEncodeError:
            pass  # an int beyond 64 bits, a lone surrogate, deep nesting: the exact path writes it
    text = _render(document, _ENCODER) if exact_only else _ENCODER.encode(document)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form; ASCII escapes (RFC 8259 section 7) keep its value.
        text = _render(document, _ASCII_ENCODER) if exact_only else _ASCII_ENCODER.encode(document)
        return text.encode("ascii")


def _error_reply(reply_id: JsonId, failure: Fault) -> tuple[dict[str, Any], bool]:
    """Section 5.1: the error object has "code" (an integer), "message" and, when set, "data"."""
    error: dict[str, Any] = {"code": failure.code, "message": failure.message}
    exact_only = False
    if failure.data is not None:
        try:
            exact_only = _check(failure.data, "error data")
        except Fault as problem:
            error = {
                "code": problem.code,
                "message": problem.message,
                "data": f"fault {failure.code} ({failure.message}): {problem.data}",
            }
        else:
            error["data"] = failure.data
    return {"jsonrpc": "2.0", "error": error, "id": reply_id}, exact_only or _spelled_apart(reply_id)


def _reply(reply_id: JsonId, outcome: Outcome) -> tuple[dict[str, Any], bool]:
    """Section 5: a Response object, with "result" on success and "error" on error, never both."""
    if isinstance(outcome, Success):
        try:
            exact_only = _check(outcome.value, "result") or _spelled_apart(reply_id)
        except Fault as problem:
            return _error_reply(reply_id, problem)
        return {"jsonrpc": "2.0", "result": outcome.value, "id": reply_id}, exact_only
    return _error_reply(reply_id, outcome)


def encode_replies(message: Message, outcomes: Sequence[Outcome | None]) -> bytes | None:
    """Encode the replies to a decoded message; None when nothing may be sent back.

    `outcomes[i]` belongs to `message.requests[i]` (None for members that carry an `error`).
    Section 4.1: "The Server MUST NOT reply to a Notification, including those that are within a
    batch request." Section 6: "If there are no Response objects contained within the response
    array as it is to be sent to the client, the server MUST NOT return an empty Array and should
    return nothing at all."
    """
    if len(outcomes) != len(message.requests):
        raise ValueError(f"{len(outcomes)} outcomes for {len(message.requests)} requests")
    replies: list[dict[str, Any]] = []
    exact_only = False
    for request, outcome in zip(message.requests, outcomes, strict=True):
        if request.id is ABSENT:
            continue
        answer = request.error if request.error is not None else outcome
        if answer is None:
            raise ValueError(f"no outcome for the request with id {request.id!r}")
        reply, reply_exact_only = _reply(request.id, answer)
        replies.append(reply)
        exact_only |= reply_exact_only
    if not replies:
        return None
    return _serialize(replies if message.batch else replies[0], exact_only)


def encode_error(fault: Fault) -> bytes:
    """Encode one error reply with id null, for a body that failed as a whole (parse error and the like).

    Section 5, id: "If there was an error in detecting the id in the Request object (e.g. Parse
    error/Invalid Request), it MUST be Null."
    """
    reply, exact_only = _error_reply(None, fault)
    return _serialize(reply, exact_only)


# --------------------------------------------------------------------------------------- client side


def encode_request(
    procedure: str,
    params: Sequence[Any] | Mapping[str, Any] | None,
    id: JsonId | Absent,
) -> bytes:
    """Encode one request object; `id=ABSENT` makes it a notification, `params=None` omits params.

    Section 4.2: params go "by-position through an Array or by-name through an Object". Raises
    `Fault(VALUE_NOT_REPRESENTABLE)` when an argument cannot be expressed in JSON, and `TypeError`
    for a procedure, params or id of the wrong type.
    """
    if not isinstance(procedure, str):
        raise TypeError(f"procedure must be a str, not {type(procedure).__name__}")
    document: dict[str, Any] = {"jsonrpc": "2.0", "method": procedure}
    exact_only = False
    if params is not None:
        if isinstance(params, Mapping):
            document["params"] = dict(params)
        elif isinstance(params, Sequence) and not isinstance(params, (str, bytes, bytearray)):
            document["params"] = list(params)
        else:
            raise TypeError(f"params must be a sequence, a mapping or None, not {type(params).__name__}")
        exact_only = _check(document["params"], "params")
    if id is not ABSENT:
        if not _valid_id(id):
            raise TypeError(f"id must be a str, int, float or None, not {type(id).__name__}")
        exact_only |= _check(id, "id")
        document["id"] = id
    return _serialize(document, exact_only)


def _invalid_response(reason: str) -> Fault:
    """The fault for a reply that is JSON but not a Response object (section 5).

    It takes -32600, which the XML-RPC interoperability codes define as "not conforming to spec".
    """
    return fault(INVALID_REQUEST, f"Invalid response: {reason}")


def _response(document: object) -> tuple[JsonId, Outcome]:
    """Read one Response object (section 5) into its id and outcome."""
    if type(document) is not dict:
        raise _invalid_response("a reply must be a JSON object")
    if document.get("jsonrpc") != "2.0":
        raise _invalid_response('"jsonrpc" must be exactly "2.0"')
    # Section 5, id: "This member is REQUIRED."
    if "id" not in document or not _valid_id(document["id"]):
        raise _invalid_response('"id" must be present and be a string, a number or null')
    reply_id: JsonId = document["id"]
    # Section 5: "Either the result member or error member MUST be included, but both members
    # MUST NOT be included."
    if ("result" in document) == ("error" in document):
        raise _invalid_response('a reply must hold exactly one of "result" and "error"')
    if "result" in document:
        return reply_id, Success(document["result"])
    error = document["error"]
    if type(error) is not dict:
        raise _invalid_response('"error" must be an object')
    code, message = error.get("code"), error.get("message")
    # Section 5.1: code "MUST be an integer"; message is "A String".
    if type(code) is not int or type(message) is not str:
        raise _invalid_response('"error" must hold an integer "code" and a string "message"')
    return reply_id, Fault(code, message, error.get("data"))


def decode_response(body: bytes, limits: Limits) -> Outcome:
    """Decode the reply to one request: `Success`, or the `Fault` the server answered with.

    Raises `Fault` when the body is not a Response object: PARSE_ERROR for bytes that are not
    UTF-8 JSON, REQUEST_TOO_LARGE over `limits`, INVALID_REQUEST ("Invalid response: ...") for
    JSON that breaks section 5.
    """
    return _response(_parse(body, limits))[1]


def decode_batch_response(body: bytes, limits: Limits) -> dict[JsonId, Outcome]:
    """Decode the reply to a batch into outcomes by id.

    Section 6: "The Client SHOULD match contexts between the set of Request objects and the
    resulting set of Response objects based on the id member within each Object." A request with
    no entry got no reply. A single Response object (the server could not read the batch) comes
    back as one entry, usually under id None. Replies with id null cannot be matched to a request;
    the first is kept. Two replies with the same other id are an invalid response.
    """
    document = _parse(body, limits)
    if type(document) is dict:
        reply_id, outcome = _response(document)
        return {reply_id: outcome}
    if type(document) is not list or not document:
        # Section 6: "the server MUST NOT return an empty Array".
        raise _invalid_response("a batch reply must be a non-empty array or one object")
    if len(document) > limits.max_batch:
        raise fault(
            REQUEST_TOO_LARGE,
            data=f"batch of {len(document)} replies is over the limit of {limits.max_batch}",
        )
    outcomes: dict[JsonId, Outcome] = {}
    for member in document:
        reply_id, outcome = _response(member)
        if reply_id in outcomes:
            if reply_id is None:
                continue
            raise _invalid_response(f"two replies with id {reply_id!r}")
        outcomes[reply_id] = outcome
    return outcomes
