"""Attribute-style calls: `point.math.add(1, 2)` calls the procedure "math.add", as `ServerProxy` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ProcedureProxy:
    """A procedure name waiting to be called; attribute access extends it with a dotted part."""

    __slots__ = ("_invoke", "_name")

    def __init__(self, invoke: Callable[..., Any], name: str) -> None:
        self._invoke = invoke
        self._name = name

    def __getattr__(self, part: str) -> ProcedureProxy:
        if part.startswith("__"):
            raise AttributeError(part)
        return ProcedureProxy(self._invoke, f"{self._name}.{part}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._invoke(self._name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<procedure {self._name!r}>"
