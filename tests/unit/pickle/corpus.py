"""Malicious and malformed pickles, written opcode by opcode, shared by the unit and HTTP tests.

Every payload that could run something aims at a canary: `fire` below (for calls in this
process) or a marker file (for calls in any process, the frontend's included). A test passes
only if the payload is refused and the canary stays quiet.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE, VALUE_NOT_REPRESENTABLE

FIRED: list[object] = []


def fire(*args: object) -> str:
    """The canary: records that a pickle managed to call it."""
    FIRED.append(args)
    return "fired"


class Canary:
    """A class a pickle might try to instantiate (NEWOBJ, INST, OBJ)."""

    def __init__(self, *args: object) -> None:
        FIRED.append(("Canary", args))

    def __setstate__(self, state: object) -> None:
        FIRED.append(("Canary.__setstate__", state))


CANARY_MODULE = __name__


class Exploit:
    """What an attacker pickles: an object whose `__reduce__` names any callable and its arguments."""

    def __init__(self, func: object, *args: object) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


@dataclass(frozen=True)
class Case:
    """One hostile body and the refusal it must earn: fault code and a fragment of the reason."""

    name: str
    body: bytes
    code: int
    reason: str


# opcode writers ---------------------------------------------------------------------------------


def text(value: str) -> bytes:
    """BINUNICODE: a str."""
    raw = value.encode("utf-8", "surrogatepass")
    return pickle.BINUNICODE + struct.pack("<I", len(raw)) + raw


def integer(value: int) -> bytes:
    """BININT for small ints, LONG4 for the rest."""
    if -(2**31) <= value < 2**31:
        return pickle.BININT + struct.pack("<i", value)
    raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return pickle.LONG4 + struct.pack("<I", len(raw)) + raw


def global_(module: str, name: str) -> bytes:
    """GLOBAL, as protocols 0-3 name things."""
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def stack_global(module: str, name: str) -> bytes:
    """STACK_GLOBAL, as protocols 4 and 5 name things."""
    return text(module) + text(name) + pickle.STACK_GLOBAL


def tuple_of(*items: bytes) -> bytes:
    return pickle.MARK + b"".join(items) + pickle.TUPLE


def list_of(*items: bytes) -> bytes:
    return pickle.EMPTY_LIST + pickle.MARK + b"".join(items) + pickle.APPENDS


def dict_of(**items: bytes) -> bytes:
    pairs = b"".join(text(key) + value for key, value in items.items())
    return pickle.EMPTY_DICT + pickle.MARK + pairs + pickle.SETITEMS


def call(func: bytes, *args: bytes) -> bytes:
    """func(*args) by REDUCE, the __reduce__ trick."""
    return func + tuple_of(*args) + pickle.REDUCE


def whole(*parts: bytes, protocol: int = 2) -> bytes:
    """PROTO, the parts, STOP."""
    return pickle.PROTO + bytes([protocol]) + b"".join(parts) + pickle.STOP


def kwargs(value: bytes) -> bytes:
    """A whole pickle of {"value": <value>}: a well-formed call, if the value loaded."""
    return whole(dict_of(value=value))


def laughs(levels: int, width: int) -> bytes:
    """Billion laughs through the memo: each list holds `width` references to the one before."""
    parts = [pickle.EMPTY_LIST, pickle.BINPUT, b"\x00", pickle.POP]
    for level in range(1, levels):
        refs = (pickle.BINGET + bytes([level - 1])) * width
        parts += [pickle.EMPTY_LIST, pickle.BINPUT, bytes([level]), pickle.MARK, refs, pickle.APPENDS]
        parts += [pickle.POP]
    parts += [pickle.BINGET, bytes([levels - 1])]
    return kwargs(b"".join(parts))


def memo_chain(depth: int) -> bytes:
    """Nesting built through the memo, never more than three items on the stack."""
    parts = [pickle.EMPTY_LIST, pickle.LONG_BINPUT, struct.pack("<I", 0), pickle.POP]
    for level in range(1, depth):
        parts += [pickle.EMPTY_LIST, pickle.LONG_BINGET, struct.pack("<I", level - 1), pickle.APPEND]
        parts += [pickle.LONG_BINPUT, struct.pack("<I", level), pickle.POP]
    parts += [pickle.LONG_BINGET, struct.pack("<I", depth - 1)]
    return kwargs(b"".join(parts))


def mutated_chain(depth: int) -> bytes:
    """Nesting the audit cannot see: empty lists linked after they were put inside one another."""
    parts = [pickle.EMPTY_LIST + pickle.LONG_BINPUT + struct.pack("<I", i) + pickle.POP for i in range(depth)]
    for i in range(depth - 1):
        parts.append(
            pickle.LONG_BINGET + struct.pack("<I", i) + pickle.LONG_BINGET + struct.pack("<I", i + 1)
        )
        parts.append(pickle.APPEND + pickle.POP)
    parts.append(pickle.LONG_BINGET + struct.pack("<I", 0))
    return kwargs(b"".join(parts))


def uuid_build(state: bytes) -> bytes:
    """uuid.UUID made as protocol 2 makes it, then given `state`."""
    return kwargs(global_("uuid", "UUID") + pickle.EMPTY_TUPLE + pickle.NEWOBJ + state + pickle.BUILD)


def sized(opcode: bytes, fmt: str, length: int) -> bytes:
    """An opcode that declares `length` bytes and brings three."""
    return kwargs(opcode + struct.pack(fmt, length) + b"abc")


# the corpus -------------------------------------------------------------------------------------


def reduce_tricks(marker: Path) -> list[Case]:
    """The classic exploits as Python's own pickler writes them, at every protocol."""
    tricks = {
        "os.system": Exploit(os.system, f"touch {marker}"),
        "eval": Exploit(eval, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.Popen": Exploit(subprocess.Popen, ["touch", str(marker)]),
        "the canary": Exploit(fire, "called"),
    }
    return [
        Case(
            f"{name} via __reduce__, protocol {protocol}",
            pickle.dumps({"value": trick}, protocol),
            INVALID_REQUEST,
            "is not on the allow-list",
        )
        for name, trick in tricks.items()
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
    ]


def cases(marker: Path) -> list[Case]:
    """Every hostile body; `marker` is the file a payload that ran a command or code would create."""
    touch = text(f"touch {marker}")
    code = text(f"open({str(marker)!r}, 'w').close()")
    allow_list = "is not on the allow-list"
    refused = INVALID_REQUEST
    big = REQUEST_TOO_LARGE
    datetime_value = call(global_("datetime", "datetime"), integer(2024), integer(1), integer(2))
    return [
        *reduce_tricks(marker),
        # code execution through globals and REDUCE
        Case("os.system via REDUCE", kwargs(call(global_("os", "system"), touch)), refused, allow_list),
        Case("posix.system via REDUCE", kwargs(call(global_("posix", "system"), touch)), refused, allow_list),
        Case("nt.system via REDUCE", kwargs(call(global_("nt", "system"), touch)), refused, allow_list),
        Case("builtins.eval", kwargs(call(global_("builtins", "eval"), code)), refused, allow_list),
        Case("builtins.exec", kwargs(call(global_("builtins", "exec"), code)), refused, allow_list),
        Case("__builtin__.eval", kwargs(call(global_("__builtin__", "eval"), code)), refused, allow_list),
        Case(
            "builtins.open",
            kwargs(call(global_("builtins", "open"), text(str(marker)), text("w"))),
            refused,
            allow_list,
        ),
        Case(
            "builtins.getattr(__import__('os'), 'system')",
            kwargs(
                call(
                    call(
                        global_("builtins", "getattr"),
                        call(global_("builtins", "__import__"), text("os")),
                        text("system"),
                    ),
                    touch,
                )
            ),
            refused,
            allow_list,
        ),
        Case(
            "builtins.__import__",
            kwargs(call(global_("builtins", "__import__"), text("os"))),
            refused,
            allow_list,
        ),
        Case(
            "subprocess.Popen",
            kwargs(call(global_("subprocess", "Popen"), list_of(text("touch"), text(str(marker))))),
            refused,
            allow_list,
        ),
        Case(
            "subprocess.check_output",
            kwargs(call(global_("subprocess", "check_output"), touch)),
            refused,
            allow_list,
        ),
        Case("the canary by GLOBAL", kwargs(call(global_(CANARY_MODULE, "fire"))), refused, allow_list),
        Case(
            "the canary by STACK_GLOBAL",
            kwargs(call(stack_global(CANARY_MODULE, "fire"))),
            refused,
            allow_list,
        ),
        Case(
            "STACK_GLOBAL builtins.eval",
            kwargs(call(stack_global("builtins", "eval"), code)),
            refused,
            allow_list,
        ),
        Case(
            "STACK_GLOBAL __builtins__.eval",
            kwargs(call(stack_global("__builtins__", "eval"), code)),
            refused,
            allow_list,
        ),
        Case(
            "copyreg._reconstructor",
            kwargs(
                call(
                    global_("copyreg", "_reconstructor"),
                    global_(CANARY_MODULE, "Canary"),
                    global_("builtins", "object"),
                    pickle.NONE,
                )
            ),
            refused,
            allow_list,
        ),
        Case("copy_reg._reconstructor", kwargs(global_("copy_reg", "_reconstructor")), refused, allow_list),
        Case(
            "copyreg.__newobj__",
            kwargs(call(global_("copyreg", "__newobj__"), global_("datetime", "date"))),
            refused,
            allow_list,
        ),
        # dotted names and dunders, through refused and through allowed modules
        Case("dotted module os.path", kwargs(global_("os.path", "join")), refused, allow_list),
        Case("dotted name path.join", kwargs(stack_global("os", "path.join")), refused, allow_list),
        Case(
            "builtins.getattr as a dotted name",
            kwargs(stack_global("builtins", "getattr")),
            refused,
            allow_list,
        ),
        Case("uuid.os.system", kwargs(call(stack_global("uuid", "os.system"), touch)), refused, allow_list),
        Case("datetime.sys.modules", kwargs(stack_global("datetime", "sys.modules")), refused, allow_list),
        Case("decimal.sys", kwargs(global_("decimal", "sys")), refused, allow_list),
        Case("builtins.__class__", kwargs(stack_global("builtins", "__class__")), refused, allow_list),
        Case(
            "datetime.datetime.__class__",
            kwargs(stack_global("datetime", "datetime.__class__")),
            refused,
            allow_list,
        ),
        Case(
            "complex.__subclasses__",
            kwargs(call(stack_global("builtins", "complex.__subclasses__"))),
            refused,
            allow_list,
        ),
        Case(
            "UUID.__init__.__globals__",
            kwargs(stack_global("uuid", "UUID.__init__.__globals__")),
            refused,
            allow_list,
        ),
        Case("uuid.__builtins__", kwargs(global_("uuid", "__builtins__")), refused, allow_list),
        Case(
            "STACK_GLOBAL on Python 2 strings",
            kwargs(b"U\x08datetimeU\x08datetime" + pickle.STACK_GLOBAL),
            refused,
            "needs two strings",
        ),
        Case(
            "STACK_GLOBAL on ints",
            kwargs(integer(1) + integer(2) + pickle.STACK_GLOBAL),
            refused,
            "needs two strings",
        ),
        # object-building opcodes
        Case(
            "INST of the canary",
            kwargs(pickle.MARK + pickle.INST + f"{CANARY_MODULE}\nfire\n".encode()),
            refused,
            "opcode INST",
        ),
        Case(
            "INST of an allowed class",
            kwargs(pickle.MARK + pickle.INST + b"builtins\ncomplex\n"),
            refused,
            "opcode INST",
        ),
        Case("OBJ", kwargs(pickle.MARK + global_("builtins", "complex") + pickle.OBJ), refused, "opcode OBJ"),
        Case(
            "NEWOBJ on the canary",
            kwargs(global_(CANARY_MODULE, "Canary") + pickle.EMPTY_TUPLE + pickle.NEWOBJ),
            refused,
            allow_list,
        ),
        Case(
            "NEWOBJ on complex",
            kwargs(global_("builtins", "complex") + pickle.EMPTY_TUPLE + pickle.NEWOBJ),
            refused,
            "NEWOBJ",
        ),
        Case(
            "NEWOBJ on UUID with arguments",
            kwargs(global_("uuid", "UUID") + tuple_of(text("0" * 32)) + pickle.NEWOBJ),
            refused,
            "NEWOBJ",
        ),
        Case(
            "NEWOBJ_EX",
            whole(
                global_("uuid", "UUID") + pickle.EMPTY_TUPLE + pickle.EMPTY_DICT + pickle.NEWOBJ_EX,
                protocol=4,
            ),
            refused,
            "NEWOBJ_EX",
        ),
        Case("REDUCE on a string", kwargs(call(text("os.system"))), refused, "REDUCE"),
        Case("PERSID", whole(pickle.PERSID + b"secret\n", protocol=0), refused, "PERSID"),
        Case("BINPERSID", kwargs(text("secret") + pickle.BINPERSID), refused, "BINPERSID"),
        Case("EXT1", kwargs(pickle.EXT1 + b"\x01"), refused, "EXT1"),
        Case("NEXT_BUFFER", whole(pickle.NEXT_BUFFER, protocol=5), refused, "NEXT_BUFFER"),
        Case(
            "READONLY_BUFFER",
            whole(pickle.EMPTY_LIST + pickle.READONLY_BUFFER, protocol=5),
            refused,
            "READONLY_BUFFER",
        ),
        # BUILD (setstate) anywhere but on a new UUID
        Case(
            "BUILD on a datetime",
            kwargs(datetime_value + dict_of(year=integer(1)) + pickle.BUILD),
            refused,
            "BUILD",
        ),
        Case(
            "BUILD on a Decimal",
            kwargs(call(global_("decimal", "Decimal"), text("1")) + dict_of(x=integer(1)) + pickle.BUILD),
            refused,
            "BUILD",
        ),
        Case(
            "BUILD on a list",
            kwargs(pickle.EMPTY_LIST + dict_of(x=integer(1)) + pickle.BUILD),
            refused,
            "BUILD",
        ),
        Case(
            "BUILD on the uuid.UUID class",
            kwargs(
                global_("uuid", "UUID") + tuple_of(pickle.NONE, dict_of(__eq__=integer(1))) + pickle.BUILD
            ),
            refused,
            "BUILD",
        ),
        Case(
            "BUILD on a stand-in",
            kwargs(
                global_("_codecs", "encode")
                + tuple_of(pickle.NONE, dict_of(__defaults__=tuple_of(text("zlib"))))
                + pickle.BUILD
            ),
            refused,
            "BUILD",
        ),
        Case(
            "BUILD on a UUID, twice",
            kwargs(
                global_("uuid", "UUID")
                + pickle.EMPTY_TUPLE
                + pickle.NEWOBJ
                + dict_of(int=integer(1))
                + pickle.BUILD
                + dict_of(int=integer(2))
                + pickle.BUILD
            ),
            refused,
            "BUILD",
        ),
        Case(
            "UUID state with another key",
            uuid_build(dict_of(int=integer(1), __class__=text("x"))),
            refused,
            "UUID's state",
        ),
        Case("UUID state with a str int", uuid_build(dict_of(int=text("1"))), refused, "UUID's state"),
        Case("UUID state out of range", uuid_build(dict_of(int=integer(1 << 130))), refused, "UUID's int"),
        Case(
            "UUID state as slot state",
            uuid_build(tuple_of(pickle.NONE, dict_of(int=integer(1)))),
            refused,
            "UUID's state",
        ),
        # amplification: repeat counts and codecs through the stand-ins
        Case(
            "bytearray(2**40)",
            kwargs(call(global_("builtins", "bytearray"), integer(2**40))),
            refused,
            "bytes may be built",
        ),
        Case(
            "bytes(2**40)",
            kwargs(call(global_("__builtin__", "bytes"), integer(2**40))),
            refused,
            "bytes may be built",
        ),
        Case(
            "_codecs.encode with zlib",
            kwargs(call(global_("_codecs", "encode"), text("x" * 100), text("zlib"))),
            refused,
            "bytes may be built",
        ),
        Case(
            "_codecs.encode with punycode",
            kwargs(call(global_("_codecs", "encode"), text("x" * 100), text("punycode"))),
            refused,
            "bytes may be built",
        ),
        Case(
            "set of colliding ints",
            kwargs(
                call(
                    global_("builtins", "set"), list_of(*(integer(1 + k * (2**61 - 1)) for k in range(1200)))
                )
            ),
            big,
            "set of more than",
        ),
        Case(
            "EMPTY_SET of colliding ints",
            whole(
                dict_of(
                    value=pickle.EMPTY_SET
                    + pickle.MARK
                    + b"".join(integer(1 + k * (2**61 - 1)) for k in range(1200))
                    + pickle.ADDITEMS
                ),
                protocol=4,
            ),
            big,
            "set of more than",
        ),
        Case(
            "set of tuples",
            kwargs(call(global_("builtins", "set"), list_of(tuple_of(integer(1))))),
            VALUE_NOT_REPRESENTABLE,
            "set members",
        ),
        Case("set(str)", kwargs(call(global_("builtins", "set"), text("abc"))), refused, "only on a list"),
        Case("integer of 5000 digits", kwargs(integer(10**5000)), big, "4300 digits"),
        Case(
            "dict with a tuple key",
            whole(pickle.EMPTY_DICT + tuple_of(integer(1)) + integer(2) + pickle.SETITEM),
            VALUE_NOT_REPRESENTABLE,
            "dict keys must be str",
        ),
        Case(
            "deep tuple as a dict key",
            whole(pickle.EMPTY_DICT + pickle.NONE + pickle.TUPLE1 * 100_000 + integer(1) + pickle.SETITEM),
            big,
            "nested deeper",
        ),
        # nesting, sharing and cycles
        Case(
            "10 000 nested lists",
            kwargs(pickle.EMPTY_LIST * 10_000 + pickle.APPEND * 9_999),
            big,
            "nested deeper",
        ),
        Case(
            "10 000 nested marks",
            whole(pickle.MARK * 10_000 + pickle.LIST * 10_000, protocol=0),
            big,
            "nested deeper",
        ),
        Case("nesting through the memo", memo_chain(10_000), big, "nested deeper"),
        Case("nesting the audit cannot see", mutated_chain(10_000), big, "nested deeper"),
        Case(
            "a list that holds itself",
            kwargs(pickle.EMPTY_LIST + pickle.BINPUT + b"\x00" + pickle.BINGET + b"\x00" + pickle.APPEND),
            big,
            "nested deeper",
        ),
        Case("billion laughs through the memo", laughs(30, 10), big, "unfold"),
        # declared lengths, memo indices and framing
        Case("BINUNICODE8 of 2**60 bytes", sized(b"\x8d", "<Q", 2**60), PARSE_ERROR, "not a pickle"),
        Case("BINBYTES8 of 2**40 bytes", sized(b"\x8e", "<Q", 2**40), PARSE_ERROR, "not a pickle"),
        Case("BYTEARRAY8 of 2**40 bytes", sized(pickle.BYTEARRAY8, "<Q", 2**40), PARSE_ERROR, "not a pickle"),
        Case("BINUNICODE of 4 GiB", sized(pickle.BINUNICODE, "<I", 2**32 - 1), PARSE_ERROR, "not a pickle"),
        Case(
            "FRAME of 2**60 bytes",
            whole(pickle.FRAME + struct.pack("<Q", 2**60) + dict_of(), protocol=4),
            PARSE_ERROR,
            "FRAME",
        ),
        Case(
            "LONG_BINPUT at 0xFFFFFFF0",
            kwargs(pickle.NONE + pickle.LONG_BINPUT + struct.pack("<I", 0xFFFFFFF0)),
            big,
            "memo index",
        ),
        Case("PUT at -1", whole(pickle.EMPTY_DICT + pickle.PUT + b"-1\n", protocol=0), big, "memo index"),
        Case("GET of an unset entry", kwargs(pickle.BINGET + b"\x07"), PARSE_ERROR, "never set"),
        Case("stack underflow", whole(pickle.POP + dict_of()), PARSE_ERROR, "underflow"),
        Case("POP_MARK without a MARK", whole(dict_of() + pickle.POP_MARK), PARSE_ERROR, "MARK"),
        Case(
            "SETITEM on a list",
            whole(pickle.EMPTY_LIST + text("k") + integer(1) + pickle.SETITEM),
            refused,
            "cannot add",
        ),
        Case(
            "ADDITEMS on a frozenset",
            whole(
                dict_of(
                    value=pickle.MARK
                    + integer(1)
                    + pickle.FROZENSET
                    + pickle.MARK
                    + integer(2)
                    + pickle.ADDITEMS
                ),
                protocol=4,
            ),
            refused,
            "cannot add",
        ),
        Case(
            "200 000 opcodes that leave the stack full",
            whole(pickle.NONE * 200_000),
            PARSE_ERROR,
            "exactly one value",
        ),
        Case("truncated", pickle.dumps({"value": "truncated"}, 2)[:-4], PARSE_ERROR, "not a pickle"),
        Case("data after STOP", pickle.dumps({}, 2) + b"\x80\x02cos\nsystem\n.", PARSE_ERROR, "after STOP"),
        Case("empty body", b"", PARSE_ERROR, "not a pickle"),
        Case("unknown opcode", b"\x80\x02\xff.", PARSE_ERROR, "not a pickle"),
        Case("protocol 6", whole(dict_of(), protocol=6), PARSE_ERROR, "protocol 6"),
        Case("JSON, not a pickle", b'{"a": 1}', PARSE_ERROR, "not a pickle"),
    ]
