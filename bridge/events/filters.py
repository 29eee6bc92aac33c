"""Listener and subscription filters: a JSON spec compiled once into a pure, never-failing predicate.

Pure: the standard library and RE2 (linear-time regular expressions); never grpc, aiohttp or a store.
The grammar, and the choices where DESIGN.md is silent, are in docs/events.md, "Filters".
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import re2

from bridge.errors import BridgeError

MAX_FIELDS: Final = 32
MAX_KEY_LENGTH: Final = 200
MAX_PATTERN_LENGTH: Final = 256
MAX_OPERAND_LENGTH: Final = 1024
# The operators of a field object, in the order the canonical spec lists them.
OPERATORS: Final = ("is", "any", "startswith", "endswith", "contains", "like")
_STRING_OPERATORS: Final = frozenset({"startswith", "endswith", "contains", "like"})

_MISSING: Final = object()
_RE2_OPTIONS: Final = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the caller's fault, not a line on stderr
_RE2_OPTIONS.never_capture = True  # `like` only asks whether there is a match
# RE2 bounds its compiled program by memory; 1 MiB holds any pattern under the length cap that
# is not a blow-up such as `(((a{100}){100}){100})`, which is refused instead.
_RE2_OPTIONS.max_mem = 1 << 20

Predicate = Callable[[Any], bool]


class InvalidFilter(BridgeError):
    """A filter spec that cannot be compiled; the message names the field and the problem."""


@dataclass(frozen=True)
class EventFilter:
    """A compiled filter: `matches(data)` is the AND of every field's conditions; `spec` is its JSON."""

    spec: Mapping[str, Any]
    _conditions: tuple[tuple[tuple[str, ...], tuple[Predicate, ...]], ...]

    def matches(self, data: Mapping[str, Any]) -> bool:
        """True when every field of the filter matches `data` (the whitelisted event data)."""
        for path, predicates in self._conditions:
            value = _lookup(data, path)
            if value is _MISSING:
                return False
            for predicate in predicates:
                try:
                    if not predicate(value):
                        return False
                except Exception:  # a filter never fails an event: data it cannot compare is no match
                    return False
        return True


def compile_filter(spec: Any) -> EventFilter:
    """Check a filter spec (parsed JSON) and compile it; raises `InvalidFilter` saying what is wrong."""
    if not isinstance(spec, Mapping):
        raise InvalidFilter(f"a filter is a JSON object of fields, not {_json_type(spec)}")
    if len(spec) > MAX_FIELDS:
        raise InvalidFilter(f"a filter has at most {MAX_FIELDS} fields, this one has {len(spec)}")
    canonical: dict[str, Any] = {}
    conditions = []
    for key, condition in spec.items():
        path = _check_key(key)
        stored, predicates = _compile_condition(key, condition)
        canonical[key] = stored
        conditions.append((path, predicates))
    return EventFilter(canonical, tuple(conditions))


def _check_key(key: Any) -> tuple[str, ...]:
    if not isinstance(key, str):
        raise InvalidFilter(f"a filter field name is a string, not {_json_type(key)}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidFilter(f"field {key[:40]!r}...: a field name has at most {MAX_KEY_LENGTH} characters")
    path = tuple(key.split("."))
    if not all(path):
        raise InvalidFilter(f"field {key!r}: a dotted field name has no empty parts")
    return path


def _compile_condition(key: str, condition: Any) -> tuple[Any, tuple[Predicate, ...]]:
    """The canonical JSON of one field's condition and its predicates."""
    if not isinstance(condition, Mapping):
        return condition, (_compile_operator(key, "is", condition),)
    if not condition:
        raise InvalidFilter(f"field {key!r}: an operator object names at least one operator")
    unknown = sorted(str(name) for name in condition if name not in OPERATORS)
    if unknown:
        raise InvalidFilter(f"field {key!r}: unknown operator {unknown[0]!r} (known: {', '.join(OPERATORS)})")
    ordered = {name: condition[name] for name in OPERATORS if name in condition}
    predicates = tuple(_compile_operator(key, name, operand) for name, operand in ordered.items())
    if list(ordered) == ["is"]:
        return ordered["is"], predicates  # stored in the short form users write
    return ordered, predicates


def _compile_operator(key: str, operator: str, operand: Any) -> Predicate:
    where = f"field {key!r}, operator {operator!r}"
    if operator == "is":
        return _equals(where, operand)
    if operator == "any":
        if operand is not True:
            raise InvalidFilter(f"{where}: takes true (the field is present), not {_describe(operand)}")
        return _present
    assert operator in _STRING_OPERATORS
    if not isinstance(operand, str):
        raise InvalidFilter(f"{where}: takes a string, not {_json_type(operand)}")
    if operator == "like":
        return _pattern(where, operand)
    if len(operand) > MAX_OPERAND_LENGTH:
        raise InvalidFilter(f"{where}: a string operand has at most {MAX_OPERAND_LENGTH} characters")
    if operator == "startswith":
        return lambda value: isinstance(value, str) and value.startswith(operand)
    if operator == "endswith":
        return lambda value: isinstance(value, str) and value.endswith(operand)
    return lambda value: isinstance(value, str) and operand in value


def _present(value: Any) -> bool:
    return True


def _equals(where: str, operand: Any) -> Predicate:
    """Equality of JSON scalars: strings to strings, booleans to booleans, numbers by value, null."""
    if isinstance(operand, str):
        if len(operand) > MAX_OPERAND_LENGTH:
            raise InvalidFilter(f"{where}: a string operand has at most {MAX_OPERAND_LENGTH} characters")
        return lambda value: isinstance(value, str) and value == operand
    if operand is None:
        return lambda value: value is None
    if isinstance(operand, bool):
        return lambda value: isinstance(value, bool) and value is operand
    if isinstance(operand, int | float):
        if isinstance(operand, float) and not math.isfinite(operand):
            raise InvalidFilter(f"{where}: {operand!r} is not a JSON number")
        return lambda value: _is_number(value) and _same_number(value, operand)
    raise InvalidFilter(
        f"{where}: compares with a string, number, boolean or null, not {_json_type(operand)}"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _same_number(value: int | float | decimal.Decimal, operand: int | float) -> bool:
    # A signalling-NaN Decimal raises on ==; `matches` turns that into no match.
    return bool(value == operand)


def _pattern(where: str, pattern: str) -> Predicate:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidFilter(f"{where}: a pattern has at most {MAX_PATTERN_LENGTH} characters")
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InvalidFilter(f"{where}: {pattern!r} is not an RE2 pattern: {reason}") from None

    def search(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        # RE2 reads UTF-8 bytes; surrogatepass keeps a lone surrogate from raising.
        return compiled.search(value.encode("utf-8", "surrogatepass")) is not None

    return search


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    """The value at a dotted path through nested structs, or `_MISSING`."""
    value = data
    for part in path:
        if not isinstance(value, Mapping):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def _describe(value: Any) -> str:
    return _json_type(value) if not isinstance(value, bool) else str(value).lower()
