"""Procedure and hook descriptors: what a worker advertises and what introspection answers with.

Pure; imports nothing that does I/O. Type names are XML-RPC's, as `system.methodSignature`
returns them (http://xmlrpc-c.sourceforge.net/introspection.html).
"""

from __future__ import annotations

import datetime
import decimal
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

# Python type hint -> XML-RPC type name. Decimal has no XML-RPC type; "decimal" marks it.
_HINT_TYPE_NAMES: Final[Mapping[Any, str]] = {
    str: "string",
    int: "int",
    bool: "boolean",
    float: "double",
    bytes: "base64",
    datetime.datetime: "dateTime.iso8601",
    decimal.Decimal: "decimal",
    list: "array",
    tuple: "array",
    dict: "struct",
    type(None): "nil",
    # Python's own types, by the XML-RPC type an XML-RPC client receives (docs/protocols.md, Values).
    set: "array",
    frozenset: "array",
    complex: "array",
    datetime.date: "dateTime.iso8601",
    datetime.time: "string",
    datetime.timedelta: "double",
    uuid.UUID: "string",
}


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter: its name, XML-RPC type name ("" when undeclared), and whether it may be left out."""

    name: str
    type: str = ""
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ProcedureInfo:
    """What the catalogue knows of one procedure."""

    name: str
    help: str = ""
    params: tuple[Parameter, ...] = ()
    returns: str = ""
    auth: bool = False
    versions: tuple[int, ...] = ()
    background: bool = False
    variadic: bool = False
    sensitive_params: tuple[str, ...] = ()

    def serves_version(self, version: int) -> bool:
        """True when the procedure may be called through `/rpc/v{version}` (0 = unversioned)."""
        return version == 0 or not self.versions or version in self.versions


@dataclass(frozen=True, slots=True)
class HookInfo:
    """An event type a worker may emit: its name, the fields that may leave (`provides`), help, auth."""

    name: str
    fields: tuple[str, ...] = ()
    help: str = ""
    auth: bool = False


@dataclass(frozen=True, slots=True)
class WorkerDescription:
    """A worker's `ListProcedures` answer: its procedures and the hooks they may emit."""

    procedures: tuple[ProcedureInfo, ...] = ()
    hooks: tuple[HookInfo, ...] = ()


def type_name_for_hint(hint: Any) -> str:
    """XML-RPC type name for a Python type hint, or "" when it has none (Any, unions, unknown)."""
    origin = typing.get_origin(hint) or hint
    if origin in (typing.Union, types.UnionType):
        return ""
    return _HINT_TYPE_NAMES.get(origin, "")


def method_signatures(info: ProcedureInfo) -> list[list[str]] | str:
    """`system.methodSignature` answer: one [return, params...] list per accepted arity, or "undef".

    The introspection spec allows a non-array answer when signatures are unknown; we give
    "undef" when any type is undeclared or the procedure is variadic.
    """
    names = [p.type for p in info.params]
    if info.variadic or not info.returns or not all(names):
        return "undef"
    required = sum(1 for p in info.params if not p.optional)
    return [[info.returns, *names[:count]] for count in range(required, len(names) + 1)]


def visible(procedures: Sequence[ProcedureInfo], version: int) -> list[ProcedureInfo]:
    """Procedures callable through the given API version, sorted by name."""
    return sorted((p for p in procedures if p.serves_version(version)), key=lambda p: p.name)
