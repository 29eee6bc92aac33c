"""The opcode audit of pickle-over-HTTP: every opcode of a body is read before anything is loaded.

Pure; part of `bridge.protocols.pickle_http`, split out because the model of the C unpickler's stack,
marks and memo is a concern of its own. Imports the standard library and the neutral vocabulary only.
"""

from __future__ import annotations

import pickle
import pickletools
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, PARSE_ERROR, REQUEST_TOO_LARGE, VALUE_NOT_REPRESENTABLE, fault
from bridge.settings import Limits

# Int, float and tuple hashes are not randomised: a big set of colliding members is quadratic.
MAX_SET_ITEMS: Final = 1000
MAX_INT_DIGITS: Final = 4300
_INT_LIMIT: Final = 10**MAX_INT_DIGITS


def refused(reason: str, code: int = INVALID_REQUEST) -> Fault:
    """The fault for a refused pickle: the reason goes to the client as plain text."""
    return fault(code, data=f"pickle refused: {reason}")


def uncarried(reason: str) -> Fault:
    """The fault for plain data that no worker can receive (rpcbridge.v1.Value has no such type)."""
    return fault(VALUE_NOT_REPRESENTABLE, data=reason)


def expect(condition: bool, reason: str) -> None:
    """Refuse the pickle as malformed unless `condition` holds."""
    if not condition:
        raise refused(reason, PARSE_ERROR)


def shown(text: str) -> str:
    """Client text for a reason line: printable ASCII, at most 60 characters."""
    return re.sub(r"[^\x20-\x7e]", "?", text[:60]) + ("..." if len(text) > 60 else "")


# Opcode names as pickletools prints them.
_SCALARS: Final = frozenset(
    "NONE NEWTRUE NEWFALSE INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT BINFLOAT "  # noqa: SIM905
    "BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8".split()
)
_INTS: Final = frozenset(("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"))
# Python 3 writes text with these; STRING and friends are Python 2 str, which loads as ASCII text
# but is never taken as a STACK_GLOBAL name (genops reads its escapes unlike the C unpickler).
_TEXTS: Final = frozenset(("UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"))
_BYTE_TEXTS: Final = frozenset(("STRING", "BINSTRING", "SHORT_BINSTRING"))
_EMPTY: Final = {"EMPTY_LIST": "list", "EMPTY_DICT": "dict", "EMPTY_SET": "set", "EMPTY_TUPLE": "tuple"}
_FROM_MARK: Final = {"LIST": "list", "TUPLE": "tuple", "DICT": "dict", "FROZENSET": "frozenset"}
_TUPLE_N: Final = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
# Opcodes that add to the container below their members, and the kind that container must be.
_ADD: Final = {"APPEND": "list", "APPENDS": "list", "SETITEM": "dict", "SETITEMS": "dict", "ADDITEMS": "set"}


@dataclass(eq=False, slots=True)
class _Node:
    """What the audit knows of one object the unpickler will build.

    `kind` is list, dict, set, frozenset, tuple, str (`name`: its text), scalar, global (`name`),
    uuid (made by NEWOBJ, not yet built) or object (whatever else REDUCE or BUILD made).
    """

    kind: str
    depth: int = 0
    size: int = 0
    name: str = ""
    items: tuple[_Node, ...] = ()


class _Audit:
    """A model of the C unpickler's stack, marks and memo, fed one opcode at a time."""

    def __init__(self, limits: Limits, length: int, allowed: Collection[tuple[str, str]]) -> None:
        self.allowed = allowed
        self.stack: list[_Node] = []
        self.marks: list[int] = []
        self.memo: dict[int, _Node] = {}
        self.max_depth = limits.max_depth
        self.length = length

    def top(self) -> _Node:
        # As in the C unpickler, nothing below the last MARK is reachable but through the mark.
        expect(len(self.stack) > (self.marks[-1] if self.marks else 0), "stack underflow")
        return self.stack[-1]

    def pop(self) -> _Node:
        self.top()
        return self.stack.pop()

    def pop_n(self, count: int) -> list[_Node]:
        return [self.pop() for _ in range(count)][::-1]

    def pop_mark(self) -> list[_Node]:
        expect(bool(self.marks), "no MARK to pop to")
        height = self.marks.pop()
        members, self.stack[height:] = self.stack[height:], []
        return members

    def push(self, node: _Node) -> None:
        if node.depth > self.max_depth:
            raise refused(f"nested deeper than {self.max_depth} levels", REQUEST_TOO_LARGE)
        self.stack.append(node)

    def add(self, node: _Node, kind: str, members: list[_Node]) -> _Node:
        """Add members to a container, as APPEND(S), SETITEM(S), ADDITEMS, LIST and friends do."""
        if node.kind != kind:
            raise refused(f"cannot add members to a {node.kind} as to a {kind}")
        if kind == "dict" and (len(members) % 2 or any(key.kind != "str" for key in members[::2])):
            raise uncarried("dict keys must be str")
        node.size += len(members)
        node.depth = max(node.depth, 1 + max((member.depth for member in members), default=0))
        if kind in ("set", "frozenset"):
            _check_set(node.size, node.depth)
        return node

    def step(self, name: str, arg: Any, pos: int) -> None:
        """Apply one opcode to the model, or refuse it."""
        if name in _INTS and abs(arg) >= _INT_LIMIT:
            raise refused(f"an integer of more than {MAX_INT_DIGITS} digits", REQUEST_TOO_LARGE)
        if name in _SCALARS:
            self.push(_Node("scalar"))
        elif name in _TEXTS or name in _BYTE_TEXTS:
            self.push(_Node("str", name=arg if name in _TEXTS else ""))
        elif name in _EMPTY:
            self.push(_Node(_EMPTY[name], depth=1))
        elif name == "MARK":
            self.marks.append(len(self.stack))
        elif name in _FROM_MARK or name in _TUPLE_N:
            kind = _FROM_MARK.get(name, "tuple")
            members = self.pop_mark() if name in _FROM_MARK else self.pop_n(_TUPLE_N[name])
            node = _Node(kind, depth=1, items=tuple(members) if kind == "tuple" else ())
            self.push(self.add(node, kind, members))
        elif name in _ADD:
            count = {"APPEND": 1, "SETITEM": 2}.get(name)
            members = self.pop_n(count) if count else self.pop_mark()
            self.push(self.add(self.pop(), _ADD[name], members))
        elif name == "POP":
            if self.marks and self.marks[-1] == len(self.stack):
                self.marks.pop()
            else:
                self.pop()
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "DUP":
            self.push(self.top())
        elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            index = len(self.memo) if name == "MEMOIZE" else arg
            # The C unpickler grows its memo to twice any index it is given, so LONG_BINPUT
            # 0xFFFFFFF0 would ask for 64 GiB; picklers number entries 0, 1, 2...
            if not 0 <= index <= len(self.memo):
                raise refused(f"memo index {index} skips past the {len(self.memo)} set", REQUEST_TOO_LARGE)
            self.memo[index] = self.top()
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            expect(arg in self.memo, f"memo entry {arg} was never set")
            self.push(self.memo[arg])
        elif name in ("GLOBAL", "STACK_GLOBAL"):
            module, _, qualname = arg.partition(" ") if name == "GLOBAL" else self.names()
            if (module, qualname) not in self.allowed:
                raise refused(f"global {shown(module)}.{shown(qualname)} is not on the allow-list")
            self.push(_Node("global", name=f"{'builtins' if module == '__builtin__' else module}.{qualname}"))
        elif name == "REDUCE":
            args, func = self.pop(), self.pop()
            self.push(self.reduce(func, args))
        elif name == "NEWOBJ":
            args, cls = self.pop(), self.pop()
            if cls.name != "uuid.UUID" or args.kind != "tuple" or args.items:
                raise refused("NEWOBJ is allowed only as uuid.UUID pickles use it")
            self.push(_Node("uuid"))
        elif name == "BUILD":
            state, target = self.pop(), self.top()
            if target.kind != "uuid":
                raise refused(f"BUILD (setstate) on a {target.kind}; only a new uuid.UUID takes state")
            if state.kind != "dict":
                raise refused("a UUID's state must be a dict")
            target.kind = "object"
        elif name == "PROTO":
            expect(arg <= pickle.HIGHEST_PROTOCOL, f"protocol {arg} is unknown")
        elif name == "FRAME":
            expect(pos + 9 + arg <= self.length, "a FRAME runs past the end of the body")
        elif name == "STOP":
            expect(not self.marks and len(self.stack) == 1, "STOP must leave exactly one value")
            expect(pos + 1 == self.length, "data after STOP")
        else:
            raise refused(f"opcode {name} is not allowed")

    def names(self) -> tuple[str, str, str]:
        """The module and name STACK_GLOBAL takes, which must be text written in the pickle."""
        qualname, module = self.pop(), self.pop()
        if not (module.kind == qualname.kind == "str" and module.name and qualname.name):
            raise refused("STACK_GLOBAL needs two strings")
        return module.name, ".", qualname.name

    def reduce(self, func: _Node, args: _Node) -> _Node:
        """The node REDUCE makes: `func(*args)` with `func` an allowed global."""
        if func.kind != "global" or args.kind != "tuple":
            raise refused("REDUCE may only call an allowed global with a tuple")
        if func.name not in ("builtins.set", "builtins.frozenset"):
            return _Node("object", depth=max(0, args.depth - 1))
        # Protocols 0-3 write set([...]); the members are hashed while the pickle loads.
        if len(args.items) > 1 or (args.items and args.items[0].kind not in ("list", "tuple")):
            raise refused(f"{func.name} is allowed only on a list")
        source = args.items[0] if args.items else _Node("list", depth=1)
        _check_set(source.size, source.depth)
        return _Node(func.name.removeprefix("builtins."), depth=source.depth, size=source.size)


def _check_set(size: int, depth: int) -> None:
    if size > MAX_SET_ITEMS:
        raise refused(f"a set of more than {MAX_SET_ITEMS} members", REQUEST_TOO_LARGE)
    if depth > 1:
        raise uncarried("set members must be plain scalars")


def audit(body: bytes, limits: Limits, allowed: Collection[tuple[str, str]]) -> None:
    """Refuse, with a fault, a pickle that is malformed, oversized or reaches past plain data.

    Args:
        allowed: the (module, name) globals the loader will resolve; any other is refused here.
    """
    if len(body) > limits.max_body_bytes:
        raise refused(f"body is over the limit of {limits.max_body_bytes} bytes", REQUEST_TOO_LARGE)
    model = _Audit(limits, len(body), allowed)
    try:
        for opcode, arg, pos in pickletools.genops(body):
            model.step(opcode.name, arg, pos or 0)
    except Fault:
        raise
    except Exception as exc:  # genops reports truncation, unknown opcodes and bad arguments
        raise fault(PARSE_ERROR, data=f"not a pickle: {shown(str(exc))}") from exc
