"""The pickle-over-HTTP codec: a pickled body to `Call`, an `Outcome` to a status and a pickled reply.

Pure: imports the standard library and the neutral vocabulary only; never aiohttp, grpc, asyncio
or another protocol's codec. docs/pickle.md is the user's account of the rules below.

A body passes three gates, and nothing is called before the first has read every opcode:

1. `audit` replays the opcodes (`pickletools.genops`) on a model of the C unpickler's stack,
   marks and memo: plain-data opcodes only; globals only from `ALLOWED_GLOBALS`; REDUCE only on
   those; NEWOBJ and BUILD only as a `uuid.UUID` pickle uses them; declared lengths within the
   body; memo indices dense; dict keys str; sets small and flat; nesting within `max_depth`.
2. `PlainUnpickler` loads with the same allow-list (`find_class`); `bytes`, `bytearray` and
   `_codecs.encode` resolve to stand-ins that take only the arguments picklers write.
3. `to_neutral` turns bytearrays into bytes and `PlainUUID`s into `uuid.UUID`s, refuses the
   allowed types a worker cannot receive (a bare timezone), and bounds what shared references may
   unfold into. Tuples, sets, dates, times, timedeltas, UUIDs and complex numbers stay what they are.
"""

from __future__ import annotations

import datetime
import decimal
import io
import pickle
import re
import uuid
from collections.abc import Mapping
from typing import Any, Final

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE, fault, http_status_for
from bridge.protocols.pickle_audit import audit, refused, shown, uncarried
from bridge.settings import Limits

MEDIA_TYPE: Final = "application/python-pickle"
# Protocol 4 is read by every Python since 3.4; 5 would shut out 3.4-3.7 clients for nothing.
REPLY_PROTOCOL: Final = 4
# Decoded text and bytes may weigh this many times max_body_bytes (shared references unfold).
UNFOLD_FACTOR: Final = 4

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class _Bytes:
    """Stands in for `bytes()` and `_codecs.encode(text, "latin1")`, as protocols 0-2 write bytes.

    Any other call is refused: `bytes(10**12)` allocates nothing, `encode(x, "zlib")` runs no codec.
    Instances hold no state (`__slots__ = ()`), so nothing a pickle does can change them.
    """

    __slots__ = ()

    def __call__(self, *args: object) -> Any:
        if not args:
            return b""
        if len(args) == 1 and type(args[0]) is bytes:
            return args[0]
        if len(args) == 2 and type(args[0]) is str and args[1] in ("latin1", "latin-1"):
            return args[0].encode("latin-1")
        raise refused("bytes may be built only from bytes or from text with the latin-1 codec")


class _ByteArray(_Bytes):
    """Stands in for `bytearray`, with the arguments `_Bytes` takes: `bytearray(10**12)` is refused."""

    __slots__ = ()

    def __call__(self, *args: object) -> Any:
        return bytearray(super().__call__(*args))


class PlainUUID(uuid.UUID):
    """`uuid.UUID` as unpickled here: BUILD may set only the state `uuid.UUID.__getstate__` writes."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        keys = set(state) if type(state) is dict else set()
        number, safe = (state["int"], state.get("is_safe", 0)) if "int" in keys else (None, None)
        if keys - {"is_safe"} != {"int"} or type(number) is not int or type(safe) is not int:
            raise refused("a UUID's state must be {'int': n} or {'int': n, 'is_safe': 0 or -1}")
        if not (0 <= number < 1 << 128 and safe in (0, -1)):
            raise refused("a UUID's int must be 0..2**128-1 and its is_safe 0 or -1")
        # What uuid.UUID.__setstate__ does, written out: the instance is immutable otherwise.
        object.__setattr__(self, "int", number)
        object.__setattr__(self, "is_safe", uuid.SafeUUID(safe if "is_safe" in keys else None))


_BUILTINS: Final = {"complex": complex, "set": set, "frozenset": frozenset, "bytearray": _ByteArray()}
ALLOWED_GLOBALS: Final[Mapping[tuple[str, str], Any]] = {
    # Protocols 0-2 spell builtins "__builtin__", Python 2's name, as pickle's fix_imports knows.
    **{(module, name): value for module in ("builtins", "__builtin__") for name, value in _BUILTINS.items()},
    ("__builtin__", "bytes"): _Bytes(),
    ("_codecs", "encode"): _Bytes(),
    **{("datetime", kind.__name__): kind for kind in (datetime.datetime, datetime.date, datetime.time)},
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("decimal", "Decimal"): decimal.Decimal,
    ("uuid", "UUID"): PlainUUID,
}
"""(module, name) -> what `find_class` returns; exact names only, so no dotted or dunder path."""

# --------------------------------------------------------------------------------------------- loading


class PlainUnpickler(pickle.Unpickler):
    """An unpickler that resolves only `ALLOWED_GLOBALS` and knows no persistent ids."""

    def find_class(self, module: str, name: str) -> Any:
        """The allowed object for exactly (module, name); everything else is refused."""
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise refused(f"global {shown(module)}.{shown(name)} is not on the allow-list")
        return found

    def persistent_load(self, pid: Any) -> Any:
        """Refuse: persistent ids would let a pickle name objects outside itself."""
        raise refused("persistent ids are not allowed")


def load_plain(body: bytes, limits: Limits) -> Any:
    """Audit `body`, then unpickle it; raises a `Fault` for anything but plain data.

    Clients may read the bridge's replies with it too: replies hold only neutral values.
    """
    audit(body, limits, ALLOWED_GLOBALS)
    try:
        return PlainUnpickler(io.BytesIO(body), encoding="ASCII").load()
    except Fault:
        raise
    except (MemoryError, RecursionError) as exc:
        raise refused("loading it would take too much memory", REQUEST_TOO_LARGE) from exc
    except Exception as exc:  # a constructor refused its arguments: datetime(9999999, 1, 1)
        raise refused(f"{type(exc).__name__}: {shown(str(exc))}", PARSE_ERROR) from exc


# --------------------------------------------------------------------------------------------- values


_CONTAINERS: Final = (list, tuple, dict, set, frozenset)
# Scalars that weigh nothing beyond their count; a UUID loads as PlainUUID.
_FIXED_SIZE: Final = (bool, float, complex, datetime.date, datetime.timedelta, PlainUUID)


class _Measure:
    """Checks a loaded value's types and sizes it, visiting each distinct object once.

    A value and its weight, (values, bytes, depth), are remembered by `id`, so a thousand
    references to one list cost one visit: shared references are measured, never unfolded.
    """

    def __init__(self, limits: Limits) -> None:
        self.max_depth = limits.max_depth
        self.known: dict[int, tuple[int, int, int]] = {}
        self.path: set[int] = set()

    def weigh(self, value: Any) -> tuple[int, int, int]:
        key, kind = id(value), type(value)
        weight = self.known.get(key)
        if weight is None and kind not in _CONTAINERS:
            weight = self.known[key] = (1, _scalar_bytes(value), 0)
        # A shared container met again at another depth: its height must still fit below it.
        if weight is not None and len(self.path) + weight[2] <= self.max_depth:
            return weight
        if weight is not None or key in self.path or len(self.path) >= self.max_depth:
            raise refused(f"nested deeper than {self.max_depth} levels", REQUEST_TOO_LARGE)
        if kind is dict and any(type(name) is not str for name in value):
            raise uncarried("dict keys must be str")
        values, size, height = 1, 0, 0
        self.path.add(key)
        for item in [*value, *value.values()] if kind is dict else value:
            item_values, item_size, item_height = self.weigh(item)
            values, size, height = values + item_values, size + item_size, max(height, item_height)
        self.path.discard(key)
        weight = self.known[key] = (values, size, height + 1)
        return weight


def _scalar_bytes(value: Any) -> int:
    """What a scalar weighs when carried; a fault for a type no worker can receive."""
    kind = type(value)
    if value is None or kind in _FIXED_SIZE:
        return 0
    if kind is int:
        return int(value).bit_length() // 8
    if kind is str and _SURROGATE.search(value):
        raise uncarried("a string holds a lone surrogate")
    if kind in (str, bytes, bytearray):
        return len(value)
    if kind is decimal.Decimal:
        return len(str(value))
    if kind in (datetime.datetime, datetime.time):
        if (offset := value.utcoffset()) is not None and offset % datetime.timedelta(seconds=1):
            raise uncarried(f"a {kind.__name__}'s UTC offset must be whole seconds")
        return 0
    name = f"{kind.__module__}.{kind.__qualname__}"
    raise uncarried(f"type {name.removeprefix('builtins.')} cannot be carried to a worker")


def _converted(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {name: _converted(item) for name, item in value.items()}
    if kind in (list, tuple, set, frozenset):
        return kind(_converted(item) for item in value)
    if kind is PlainUUID:
        return uuid.UUID(int=value.int, is_safe=value.is_safe)
    return bytes(value) if kind is bytearray else value


def to_neutral(value: Any, limits: Limits) -> Any:
    """Map a loaded value to neutral values (bytearray -> bytes) or raise a Fault.

    Unfolded, the value may hold at most `max_body_bytes` values and `UNFOLD_FACTOR` times as
    many bytes of text: about what a body of that size could carry without shared references.
    """
    try:
        values, size, _ = _Measure(limits).weigh(value)
    except RecursionError as exc:
        raise refused(f"nested deeper than {limits.max_depth} levels", REQUEST_TOO_LARGE) from exc
    if values > limits.max_body_bytes or size > UNFOLD_FACTOR * limits.max_body_bytes:
        raise refused("shared references unfold into more than the body limit allows", REQUEST_TOO_LARGE)
    return _converted(value)


# --------------------------------------------------------------------------------------------- calls


def decode_call(procedure: str, body: bytes, limits: Limits) -> Call:
    """Decode `POST /pickle/{procedure}`: a pickled dict of keyword arguments or an (args, kwargs) pair.

    A `Call` carries arguments by position or by name, never both, so a pair with both is refused.
    """
    if not 0 < len(procedure) <= 256 or not procedure.isprintable() or " " in procedure:
        raise fault(INVALID_REQUEST, data="the procedure name must be 1..256 printable characters")
    loaded = load_plain(body, limits)
    value = to_neutral(loaded, limits)
    if type(value) is dict:
        return Call(procedure, (), value)
    if (
        type(value) in (list, tuple)
        and len(value) == 2
        and type(value[0]) in (list, tuple)
        and type(value[1]) is dict
    ):
        args, kwargs = value
        if args and kwargs:
            raise fault(INVALID_REQUEST, data="pass arguments by position or by name, not both")
        return Call(procedure, (), kwargs) if kwargs else Call(procedure, tuple(args))
    shape = type(loaded).__name__
    raise fault(
        INVALID_REQUEST, data=f"the body must be a kwargs dict or an (args, kwargs) pair, not {shape}"
    )


def encode_outcome(outcome: Outcome) -> tuple[int, bytes]:
    """Status and pickled reply: 200 and the result, or 4xx/5xx and {"error": {code, message, data}}."""
    if isinstance(outcome, Success):
        return 200, pickle.dumps(outcome.value, protocol=REPLY_PROTOCOL)
    error = {"code": outcome.code, "message": outcome.message, "data": outcome.data}
    return http_status_for(outcome.code), pickle.dumps({"error": error}, protocol=REPLY_PROTOCOL)
