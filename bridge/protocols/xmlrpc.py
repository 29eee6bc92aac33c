"""XML-RPC codec: `methodCall` / `methodResponse` bytes to neutral values and back.

Pure: no I/O, no aiohttp, no grpc, no asyncio, and no `bridge.protocols.jsonrpc`.
Spec: http://xmlrpc.com/spec.md, with the `nil` and `i8` extensions
(http://ontosys.com/xml-rpc/extensions.php) and `system.multicall`
(https://mirrors.talideon.com/articles/multicall.html).

Value mapping, decoding (XML-RPC -> neutral value):

    <i4>, <int>            int, must fit 32 bits signed, else Invalid Request
    <i8>, <ex:i8>          int, must fit 64 bits signed (extension)
    <boolean>              bool; only "0" and "1" are accepted
    <string>, untyped      str, whitespace kept exactly; an untyped <value> holding a type element is
                           that type, and whitespace-only text between tags is ignored
    <double>               float; Python's "nan", "inf", "-inf" are accepted
    <dateTime.iso8601>     datetime: "19980717T14:08:55" or "1998-07-17T14:08:55", optional ".ffffff"
                           (digits past microseconds are truncated), optional "Z" or "+HH:MM"/"-HH:MM";
                           with an offset it is aware (fixed offset), without one naive
    <base64>               bytes; whitespace inside is allowed, padding is required
    <nil/>, <ex:nil/>      None (extension; any namespace prefix is accepted for nil and i8)
    <struct>               dict, member order kept; of duplicate names the last wins
    <array><data>          list
    <params/> or none      () as the call's params

Value mapping, encoding (neutral value -> XML-RPC):

    None                   <nil/>
    bool                   <boolean>
    int                    <int> within 32 bits, <i8> within 64 bits, beyond: not representable
    float                  <double> as repr() writes it ("nan", "inf", "-inf", "1e+100")
    str                    <string>, escaping &, <, > and \\r (as &#13;, so it survives XML line-end
                           normalisation); characters XML 1.0 cannot carry: not representable
    bytes                  <base64>
    datetime               <dateTime.iso8601> "YYYYMMDDTHH:MM:SS", ".ffffff" only when microseconds
                           are set, "+HH:MM"/"-HH:MM" when aware (offsets with seconds: not representable)
    list, tuple            <array>
    dict with str keys     <struct>
    set, frozenset         <array> of the members, in iteration order
    date                   <dateTime.iso8601> "YYYYMMDDT00:00:00" (naive midnight)
    time                   <string> as time.isoformat() writes it ("14:08:55", "14:08:55.000001+02:00")
    timedelta              <double> of seconds (total_seconds(); microseconds beyond 2**53 round)
    UUID                   <string> "12345678-1234-5678-1234-567812345678"
    complex                <array> of two <double>: real, imaginary
    Decimal, anything else not representable

The last six are Python's own types, which pickle-over-HTTP callers and Python workers exchange
(docs/protocols.md, Values); an XML-RPC client receives their nearest XML-RPC type.

"Not representable" means a fault VALUE_NOT_REPRESENTABLE (-32007) saying what and where, never a
silent change. Decoding faults: PARSE_ERROR for XML that is not well-formed or not decodable,
INVALID_REQUEST for well-formed XML that is not a valid methodCall/methodResponse (and for any DTD,
entity declaration or external reference, which defusedxml's hardened expat parser refuses),
REQUEST_TOO_LARGE for a body over `Limits.max_body_bytes` or an element nesting deeper than
`Limits.max_depth` (elements, not values: each array or struct level costs three). A fault's
faultString is its message, plus ": " + data when data is a str; characters XML cannot carry
become U+FFFD there.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any, Final
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    REQUEST_TOO_LARGE,
    VALUE_NOT_REPRESENTABLE,
    fault,
)
from bridge.settings import Limits

__all__ = [
    "MULTICALL",
    "decode_call",
    "decode_outcome",
    "encode_call",
    "encode_outcome",
    "expand_multicall",
    "multicall_result",
]

MULTICALL: Final = "system.multicall"

_XML_SPACE: Final = " \t\r\n"
_INT32: Final = 1 << 31
_INT64: Final = 1 << 63
_HEAD: Final = '<?xml version="1.0"?>\n'
# XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML_CHAR: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DATETIME: Final = re.compile(
    r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})T([0-9]{2}):?([0-9]{2}):?([0-9]{2})"
    r"(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


def _invalid(detail: str) -> Fault:
    return fault(INVALID_REQUEST, data=detail)


# --- decoding: leaf converters ------------------------------------------------------------------


def _to_int(text: str, tag: str, limit: int) -> int:
    digits = text.strip(_XML_SPACE)
    try:
        if "_" in digits or not digits.isascii():
            raise ValueError(digits)
        value = int(digits)
    except ValueError:
        raise _invalid(f"<{tag}> holds {text[:40]!r}, not an integer") from None
    if not -limit <= value < limit:
        raise _invalid(f"<{tag}> value {digits[:40]} is out of range")
    return value


def _to_bool(text: str) -> bool:
    flag = text.strip(_XML_SPACE)
    if flag == "1":
        return True
    if flag == "0":
        return False
    raise _invalid(f"<boolean> holds {text[:40]!r}; only 0 and 1 are allowed")


def _to_float(text: str) -> float:
    number = text.strip(_XML_SPACE)
    try:
        if "_" in number or not number.isascii():
            raise ValueError(number)
        return float(number)
    except ValueError:
        raise _invalid(f"<double> holds {text[:40]!r}, not a number") from None


def _to_datetime(text: str) -> datetime.datetime:
    match = _DATETIME.fullmatch(text.strip(_XML_SPACE))
    try:
        if match is None:
            raise ValueError(text)
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        tz: datetime.tzinfo | None = None
        if zone == "Z":
            tz = datetime.UTC
        elif zone:
            hours, minutes = int(zone[1:3]), int(zone[3:].lstrip(":") or 0)
            if minutes > 59:
                raise ValueError(zone)
            offset = datetime.timedelta(hours=hours, minutes=minutes)
            tz = datetime.timezone(-offset if zone[0] == "-" else offset)
        micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
        return datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        )
    except (ValueError, OverflowError):
        raise _invalid(f"<dateTime.iso8601> holds {text[:40]!r}, not a date and time") from None


def _to_bytes(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError:  # binascii.Error is a ValueError
        raise _invalid("<base64> holds text that is not valid base64") from None


def _to_none(text: str) -> None:
    if text.strip(_XML_SPACE):
        raise _invalid("<nil/> must be empty")


def _method_name(text: str) -> str:
    name = text.strip(_XML_SPACE)
    if not name:
        raise _invalid("<methodName> is empty")
    return name


_LEAVES: Final[dict[str, Callable[[str], Any]]] = {
    "string": str,
    "int": lambda text: _to_int(text, "int", _INT32),
    "i4": lambda text: _to_int(text, "i4", _INT32),
    "i8": lambda text: _to_int(text, "i8", _INT64),
    "boolean": _to_bool,
    "double": _to_float,
    "dateTime.iso8601": _to_datetime,
    "base64": _to_bytes,
    "nil": _to_none,
    "name": str,
    "methodName": _method_name,
}
_EXTENSIONS: Final = {"nil": "nil", "i8": "i8"}  # Apache writes <ex:nil/>, <ex:i8>

# --- decoding: containers -----------------------------------------------------------------------
# Every element leaves exactly one item on the output stack; a container's closer folds the
# items its children left (from `mark` on) into its own.


def _close_data(out: list[Any], mark: int) -> None:
    out[mark:] = [out[mark:]]


def _close_struct(out: list[Any], mark: int) -> None:
    out[mark:] = [dict(out[mark:])]


def _close_member(out: list[Any], mark: int) -> None:
    if len(out) - mark != 2:
        raise _invalid("<member> needs a <name> and a <value>")
    out[mark:] = [(out[mark], out[mark + 1])]


def _close_params(out: list[Any], mark: int) -> None:
    out[mark:] = [tuple(out[mark:])]


def _needs_one(tag: str, child: str) -> Callable[[list[Any], int], None]:
    def close(out: list[Any], mark: int) -> None:
        if len(out) - mark != 1:
            raise _invalid(f"<{tag}> needs one <{child}>")

    return close


def _close_fault(out: list[Any], mark: int) -> None:
    if len(out) - mark != 1:
        raise _invalid("<fault> needs one <value>")
    value = out.pop()
    code = value.get("faultCode") if isinstance(value, dict) else None
    text = value.get("faultString") if isinstance(value, dict) else None
    if type(code) is not int or not isinstance(text, str):
        raise _invalid("<fault> must hold a struct with an int faultCode and a string faultString")
    out.append(Fault(code, text))


def _close_method_call(out: list[Any], mark: int) -> None:
    if len(out) == mark:
        raise _invalid("<methodCall> has no <methodName>")
    params = out.pop() if len(out) - mark == 2 else ()
    out[mark:] = [Call(out[mark], params)]


def _close_method_response(out: list[Any], mark: int) -> None:
    if len(out) == mark:
        raise _invalid("<methodResponse> needs <params> or <fault>")
    item = out.pop()
    if not isinstance(item, Fault):
        if len(item) != 1:
            raise _invalid("<methodResponse> must carry exactly one <param>")
        item = Success(item[0])
    out.append(item)


_CLOSERS: Final[dict[str, Callable[[list[Any], int], None]]] = {
    "data": _close_data,
    "array": _needs_one("array", "data"),
    "struct": _close_struct,
    "member": _close_member,
    "param": _needs_one("param", "value"),
    "params": _close_params,
    "fault": _close_fault,
    "methodCall": _close_method_call,
    "methodResponse": _close_method_response,
}

_NOTHING: Final[frozenset[str]] = frozenset()
_VALUE: Final = frozenset({"value"})
_TYPES: Final = frozenset(_LEAVES) - {"name", "methodName"} | {"array", "struct"}
# parent -> allowed tags of its first, second... child; the last set holds for all later children
_RULES: Final[dict[str, tuple[frozenset[str], ...]]] = {
    "#call": (frozenset({"methodCall"}), _NOTHING),
    "#response": (frozenset({"methodResponse"}), _NOTHING),
    "methodCall": (frozenset({"methodName"}), frozenset({"params"}), _NOTHING),
    "methodResponse": (frozenset({"params", "fault"}), _NOTHING),
    "params": (frozenset({"param"}),),
    "param": (_VALUE, _NOTHING),
    "fault": (_VALUE, _NOTHING),
    "value": (_TYPES, _NOTHING),
    "array": (frozenset({"data"}), _NOTHING),
    "data": (_VALUE,),
    "struct": (frozenset({"member"}),),
    "member": (frozenset({"name"}), _VALUE, _NOTHING),
}


def _parse_handlers(
    root: str, max_depth: int
) -> tuple[Callable[[str, object], None], Callable[[str], None], list[str], list[Any]]:
    """Expat handlers that check structure and depth and build neutral values in one pass.

    Closures rather than methods: these run for every element, and cell loads beat attribute loads.
    Returns the start and end handlers, the list that collects character data, and the output stack.
    """
    tags = [root]  # open elements, above the document's sentinel
    marks = [0]  # per open element: height of `out` when it started
    out: list[Any] = []
    chunks: list[str] = []  # character data since the last tag

    def start(tag: str, _attributes: object) -> None:
        if len(tags) > max_depth:
            raise fault(REQUEST_TOO_LARGE, data=f"XML nested deeper than {max_depth} elements")
        if ":" in tag:
            tag = _EXTENSIONS.get(tag.rpartition(":")[2], tag)
        parent = tags[-1]
        rule = _RULES.get(parent)
        position = len(out) - marks[-1]
        if rule is None or tag not in (rule[position] if position < len(rule) else rule[-1]):
            raise _invalid(_misplaced(parent, tag))
        if chunks:
            if "".join(chunks).strip(_XML_SPACE):
                raise _invalid(f"<{parent}> mixes text and elements")
            chunks.clear()
        tags.append(tag)
        marks.append(len(out))

    def end(_tag: str) -> None:
        tag = tags.pop()
        mark = marks.pop()
        text = ""
        if chunks:
            text = chunks[0] if len(chunks) == 1 else "".join(chunks)
            chunks.clear()
        if tag == "value":
            if len(out) == mark:
                out.append(text)
            elif text.strip(_XML_SPACE):
                raise _invalid("<value> mixes text and a typed value")
            return
        convert = _LEAVES.get(tag)
        if convert is not None:
            out.append(convert(text))
            return
        if text.strip(_XML_SPACE):
            raise _invalid(f"<{tag}> holds unexpected text")
        _CLOSERS[tag](out, mark)

    return start, end, chunks, out


def _misplaced(parent: str, tag: str) -> str:
    if parent == "value":
        return f"unknown value type <{tag}>" if tag not in _TYPES else "<value> holds one type element"
    if parent.startswith("#"):
        return f"the document element must be <{min(_RULES[parent][0])}>, not <{tag}>"
    if parent not in _RULES:
        return f"<{parent}> cannot contain elements (found <{tag}>)"
    return f"<{tag}> is not allowed here inside <{parent}>"


def _xml_declaration(_encoding: str | None, _standalone: object) -> None:
    """The XML declaration needs no handling: expat itself honours its encoding."""


def _parse(body: bytes, limits: Limits, root: str) -> Any:
    """Parse a whole document in one pass with defusedxml's hardened expat parser.

    `DefusedExpatParser` (what `defusedxml.xmlrpc` puts under the standard library's XML-RPC) wires
    our handlers to expat and installs its own refusals; `forbid_dtd=True` refuses any DOCTYPE too.
    """
    if len(body) > limits.max_body_bytes:
        raise fault(REQUEST_TOO_LARGE, data=f"body over the limit of {limits.max_body_bytes} bytes")
    start, end, chunks, out = _parse_handlers(root, limits.max_depth)
    target = SimpleNamespace(start=start, end=end, data=chunks.append, xml=_xml_declaration)
    parser = DefusedExpatParser(target, forbid_dtd=True)
    # One call per text node rather than per buffer-sized piece; the stdlib's ExpatParser (which
    # defusedxml extends) keeps its pyexpat parser in `_parser`, and defusedxml hardens it there too.
    parser._parser.buffer_text = True
    try:
        parser.feed(body)
        parser.close()
    except Fault:
        raise
    except DefusedXmlException as exc:
        raise _invalid(f"DTDs, entity declarations and external references are refused ({exc})") from exc
    except expat.ExpatError as exc:
        raise fault(PARSE_ERROR, data=str(exc)) from exc
    except (LookupError, ValueError) as exc:  # unknown or multi-byte declared encoding
        raise fault(PARSE_ERROR, data=f"cannot decode the body: {exc}") from exc
    return out[0]


def decode_call(body: bytes, limits: Limits) -> Call:
    """Decode a methodCall into a `Call`, or raise the `Fault` the client should receive."""
    call: Call = _parse(body, limits, "#call")
    return call


def decode_outcome(body: bytes, limits: Limits) -> Outcome:
    """Decode a methodResponse into `Success` or `Fault`; raise `Fault` when it is malformed."""
    outcome: Outcome = _parse(body, limits, "#response")
    return outcome


# --- encoding ------------------------------------------------------------------------------------


class _NotRepresentable(Exception):
    """A value XML-RPC cannot express; `path` is filled innermost first as the stack unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []

    def fault(self, root: str) -> Fault:
        where = root + "".join(reversed(self.path))
        return fault(VALUE_NOT_REPRESENTABLE, data=f"{self.reason} (at {where})")


def _escape(text: str) -> str:
    if not text.isprintable():
        bad = _NOT_XML_CHAR.search(text)
        if bad is not None:
            raise _NotRepresentable(f"str holds U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _write_int(value: int, out: list[str]) -> None:
    if -_INT32 <= value < _INT32:
        out.append(f"<value><int>{value}</int></value>")
    elif -_INT64 <= value < _INT64:
        out.append(f"<value><i8>{value}</i8></value>")
    else:
        raise _NotRepresentable(f"int of {value.bit_length()} bits is beyond XML-RPC's 64-bit <i8>")


def _write_str(value: str, out: list[str]) -> None:
    out.append(f"<value><string>{_escape(value)}</string></value>")


def _write_datetime(value: datetime.datetime, out: list[str]) -> None:
    text = f"{value.year:04d}{value.month:02d}{value.day:02d}T{value.hour:02d}:{value.minute:02d}"
    text += f":{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    offset = value.utcoffset()
    if offset is not None:
        seconds = offset // datetime.timedelta(seconds=1)
        if seconds % 60 or offset.microseconds:
            raise _NotRepresentable(f"datetime offset {offset} is not whole minutes")
        minutes = abs(seconds) // 60
        text += f"{'-' if seconds < 0 else '+'}{minutes // 60:02d}:{minutes % 60:02d}"
    out.append(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>")


def _write_date(value: datetime.date, out: list[str]) -> None:
    text = f"{value.year:04d}{value.month:02d}{value.day:02d}T00:00:00"
    out.append(f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>")


def _write_array(value: Iterable[Any], out: list[str]) -> None:
    out.append("<value><array><data>")
    index = 0
    try:
        for item in value:
            _WRITERS.get(type(item), _write_other)(item, out)
            index += 1
    except _NotRepresentable as exc:
        exc.path.append(f"[{index}]")
        raise
    out.append("</data></array></value>")


def _write_struct(value: dict[Any, Any], out: list[str]) -> None:
    out.append("<value><struct>")
    key = None
    try:
        for key, item in value.items():
            if not isinstance(key, str):
                raise _NotRepresentable(f"struct member names must be str, not {type(key).__name__}")
            out.append(f"<member><name>{_escape(key)}</name>")
            _WRITERS.get(type(item), _write_other)(item, out)
            out.append("</member>")
    except _NotRepresentable as exc:
        exc.path.append(f"[{key!r}]")
        raise
    out.append("</struct></value>")


def _write_other(value: Any, out: list[str]) -> None:
    """Subclasses of the neutral types (IntEnum, OrderedDict...) as their base; the rest refused."""
    # int and float subclasses may override __format__ and __repr__ (numpy.float64 does)
    if isinstance(value, int):  # bool cannot be subclassed, so this is IntEnum and the like
        _write_int(int(value), out)
        return
    if isinstance(value, float):
        _WRITERS[float](float(value), out)
        return
    for base in _SUBCLASS_BASES:
        if isinstance(value, base):
            _WRITERS[base](value, out)
            return
    if isinstance(value, decimal.Decimal):
        raise _NotRepresentable("Decimal has no XML-RPC type; send it as a string")
    raise _NotRepresentable(f"{type(value).__qualname__} has no XML-RPC type")


_WRITERS: Final[dict[type, Callable[[Any, list[str]], None]]] = {
    str: _write_str,
    int: _write_int,
    bool: lambda value, out: out.append(f"<value><boolean>{1 if value else 0}</boolean></value>"),
    float: lambda value, out: out.append(f"<value><double>{value!r}</double></value>"),
    type(None): lambda _value, out: out.append("<value><nil/></value>"),
    bytes: lambda value, out: out.append(
        f"<value><base64>{binascii.b2a_base64(value, newline=False).decode()}</base64></value>"
    ),
    datetime.datetime: _write_datetime,
    list: _write_array,
    tuple: _write_array,
    dict: _write_struct,
    set: _write_array,
    frozenset: _write_array,
    datetime.date: _write_date,
    datetime.time: lambda value, out: _write_str(value.isoformat(), out),
    datetime.timedelta: lambda value, out: _WRITERS[float](value.total_seconds(), out),
    uuid.UUID: lambda value, out: _write_str(str(value), out),
    complex: lambda value, out: _write_array((value.real, value.imag), out),
}
# datetime before date, its base: the first match wins.
_SUBCLASS_BASES: Final[tuple[type, ...]] = (
    str,
    bytes,
    datetime.datetime,
    list,
    tuple,
    dict,
    set,
    frozenset,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    complex,
)


def _write_value(value: Any, out: list[str], root: str) -> Fault | None:
    """Append `value` to `out`; on failure return the fault to send instead."""
    try:
        _WRITERS.get(type(value), _write_other)(value, out)
    except _NotRepresentable as exc:
        return exc.fault(root)
    except RecursionError:
        return fault(VALUE_NOT_REPRESENTABLE, data=f"{root} is nested too deeply, or contains itself")
    return None


def _fault_string(error: Fault) -> str:
    text = f"{error.message}: {error.data}" if isinstance(error.data, str) else error.message
    return _NOT_XML_CHAR.sub("\ufffd", text)


def _fault_response(error: Fault) -> bytes:
    code = error.code
    if not -_INT64 <= code < _INT64:
        error = fault(VALUE_NOT_REPRESENTABLE, data=f"fault code {code} is beyond XML-RPC's 64-bit <i8>")
        code = error.code
    out = [_HEAD, "<methodResponse><fault><value><struct><member><name>faultCode</name>"]
    _write_int(code, out)
    out.append("</member><member><name>faultString</name>")
    _write_str(_fault_string(error), out)
    out.append("</member></struct></value></fault></methodResponse>\n")
    return "".join(out).encode()


def encode_outcome(outcome: Outcome) -> bytes:
    """Encode an outcome as a methodResponse; an inexpressible result becomes a -32007 fault response."""
    if isinstance(outcome, Fault):
        return _fault_response(outcome)
    out = [_HEAD, "<methodResponse><params><param>"]
    problem = _write_value(outcome.value, out, "result")
    if problem is not None:
        return _fault_response(problem)
    out.append("</param></params></methodResponse>\n")
    return "".join(out).encode()


def encode_call(procedure: str, params: Sequence[Any]) -> bytes:
    """Encode a methodCall (client side); raise Fault(VALUE_NOT_REPRESENTABLE) for a bad name or param."""
    try:
        name = _escape(procedure)
    except _NotRepresentable as exc:
        raise exc.fault("methodName") from None
    if not name.strip(_XML_SPACE):
        raise fault(VALUE_NOT_REPRESENTABLE, data="methodName is empty")
    out = [_HEAD, f"<methodCall><methodName>{name}</methodName><params>"]
    for index, param in enumerate(params):
        out.append("<param>")
        problem = _write_value(param, out, f"params[{index}]")
        if problem is not None:
            raise problem
        out.append("</param>")
    out.append("</params></methodCall>\n")
    return "".join(out).encode()


# --- system.multicall ----------------------------------------------------------------------------


def _multicall_entry(entry: Any, index: int) -> Call | Fault:
    if not isinstance(entry, dict):
        return _invalid(f"multicall entry {index} is not a struct")
    name = entry.get("methodName")
    params = entry.get("params", [])
    if not isinstance(name, str) or not name:
        return _invalid(f"multicall entry {index} has no string methodName")
    if name == MULTICALL:
        return _invalid(f"multicall entry {index}: {MULTICALL} cannot be called inside {MULTICALL}")
    if not isinstance(params, list):
        return _invalid(f"multicall entry {index}: params must be an array")
    return Call(name, tuple(params))


def expand_multicall(call: Call, limits: Limits) -> list[Call | Fault]:
    """Split system.multicall([{methodName, params}, ...]) into calls, a Fault in each bad entry's slot.

    A bad entry (or a nested system.multicall) is an Invalid Request fault in its slot; a missing
    "params" member counts as an empty array.
    """
    if call.named is not None or len(call.params) != 1 or not isinstance(call.params[0], list):
        raise fault(INVALID_PARAMS, data=f"{MULTICALL} takes exactly one array of calls")
    entries = call.params[0]
    if len(entries) > limits.max_multicall:
        raise fault(REQUEST_TOO_LARGE, data=f"{MULTICALL} of more than {limits.max_multicall} calls")
    return [_multicall_entry(entry, index) for index, entry in enumerate(entries)]


def multicall_result(outcomes: Sequence[Outcome]) -> list[Any]:
    """The system.multicall result: [value] per success, {faultCode, faultString} per fault.

    A result XML-RPC cannot express becomes a -32007 fault in its own slot, so the others still
    reach the client.
    """
    result: list[Any] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Success):
            problem = _write_value(outcome.value, [], f"result[{index}]")
            if problem is None:
                result.append([outcome.value])
                continue
            outcome = problem
        code = outcome.code if -_INT64 <= outcome.code < _INT64 else VALUE_NOT_REPRESENTABLE
        result.append({"faultCode": code, "faultString": _fault_string(outcome)})
    return result
