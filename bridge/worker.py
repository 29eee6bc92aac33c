"""The Python worker SDK: register procedures with `@worker.procedure`, run decoded calls.

Pure of transport: no grpc, no aiohttp. `bridge.rpc.worker_server` serves a `Worker` over gRPC.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from bridge.calls import Call, Outcome, Success
from bridge.errors import ConfigError, Fault
from bridge.faults import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, UNAUTHENTICATED, fault
from bridge.procedures import Parameter, ProcedureInfo, type_name_for_hint

log = logging.getLogger("rpcbridge.worker")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, passed first to procedures declared with `auth=True`."""

    username: str

    def __str__(self) -> str:
        return self.username


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the bridge tells a running procedure about its call (`call_context()` returns it).

    Args:
        request_id: the id of the request that made the call (for a job: of the one that submitted it).
        job_id: the background job this run belongs to, else empty. A job may run more than once
            (docs/jobs.md), so a procedure can use it as an idempotency key.
        trace_id: the W3C trace this call belongs to (32 hex digits).
        traceparent: the `traceparent` of this procedure's span, to pass on to calls it makes.
    """

    request_id: str = ""
    job_id: str = ""
    trace_id: str = ""
    traceparent: str = ""


_NO_CONTEXT = CallContext()
_current_context: contextvars.ContextVar[CallContext] = contextvars.ContextVar(
    "rpcbridge_call_context", default=_NO_CONTEXT
)


def call_context() -> CallContext:
    """The context of the call the running procedure serves (empty fields outside a call)."""
    return _current_context.get()


@dataclass(frozen=True, slots=True)
class _Registered:
    info: ProcedureInfo
    function: Callable[..., Any]
    signature: inspect.Signature
    is_async: bool


class Worker:
    """A set of procedures, registered with `@worker.procedure`, that a worker process serves."""

    def __init__(self) -> None:
        self._procedures: dict[str, _Registered] = {}

    @overload
    def procedure(self, function: F) -> F: ...

    @overload
    def procedure(
        self,
        *,
        name: str | None = None,
        auth: bool = False,
        version: int | Iterable[int] | None = None,
        background: bool = False,
        sensitive: Iterable[str] = (),
    ) -> Callable[[F], F]: ...

    def procedure(
        self,
        function: F | None = None,
        *,
        name: str | None = None,
        auth: bool = False,
        version: int | Iterable[int] | None = None,
        background: bool = False,
        sensitive: Iterable[str] = (),
    ) -> F | Callable[[F], F]:
        """Register a procedure: name from the function, help from its docstring, signature from hints.

        Args:
            name: the public name (default: the function's name), e.g. "math.add".
            auth: the caller must authenticate; the function then receives a `Caller` first.
            version: API version(s) the procedure is registered for (default: every version).
            background: run as a background job; the caller gets a job id at once.
            sensitive: parameter names whose values are never written to the call log.
        """

        def register(func: F) -> F:
            versions = (version,) if isinstance(version, int) else tuple(version or ())
            self._add(func, name or func.__name__, auth, versions, background, tuple(sensitive))
            return func

        return register(function) if function is not None else register

    def _add(
        self,
        func: Callable[..., Any],
        name: str,
        auth: bool,
        versions: tuple[int, ...],
        background: bool,
        sensitive: tuple[str, ...],
    ) -> None:
        if name in self._procedures:
            raise ConfigError(f"procedure {name!r} is registered twice")
        if name.startswith(("system.", "rpc.")):
            raise ConfigError(f"procedure names starting with system. or rpc. are reserved: {name!r}")
        signature = inspect.signature(func)
        try:
            hints = typing.get_type_hints(func)
        except (NameError, TypeError):
            hints = {}
        parameters = list(signature.parameters.values())
        if auth:
            if not parameters:
                raise ConfigError(f"auth procedure {name!r} must take the caller as first parameter")
            parameters = parameters[1:]
        params = tuple(
            Parameter(p.name, type_name_for_hint(hints.get(p.name, Any)), p.default is not p.empty)
            for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        )
        info = ProcedureInfo(
            name=name,
            help=inspect.getdoc(func) or "",
            params=params,
            returns=type_name_for_hint(hints["return"]) if "return" in hints else "",
            auth=auth,
            versions=versions,
            background=background,
            variadic=any(p.kind is p.VAR_POSITIONAL for p in parameters),
            sensitive_params=sensitive,
        )
        self._procedures[name] = _Registered(info, func, signature, inspect.iscoroutinefunction(func))

    def describe(self) -> list[ProcedureInfo]:
        """Descriptors of every registered procedure, in registration order."""
        return [entry.info for entry in self._procedures.values()]

    async def run(
        self, call: Call, caller: Caller | None = None, context: CallContext = _NO_CONTEXT
    ) -> Outcome:
        """Run one call; never raises: faults, bad arguments and crashes all become outcomes."""
        entry = self._procedures.get(call.procedure)
        if entry is None:
            return fault(METHOD_NOT_FOUND)
        args: tuple[Any, ...] = call.params
        if entry.info.auth:
            if caller is None:
                return fault(UNAUTHENTICATED)
            args = (caller, *args)
        named = dict(call.named or {})
        try:
            # Arity is checked before the procedure runs (JSON-RPC 2.0, section 5.1: -32602).
            entry.signature.bind(*args, **named)
        except TypeError as exc:
            return fault(INVALID_PARAMS, data=str(exc))
        token = _current_context.set(context)
        try:
            result = await self._invoke(entry, args, named)
        except Fault as raised:
            return raised
        except Exception:
            # The client sees only -32603; the operator finds the traceback by the request id.
            log.exception("procedure %s failed (request %s)", call.procedure, context.request_id or "-")
            return fault(INTERNAL_ERROR)
        finally:
            _current_context.reset(token)
        return Success(result)

    @staticmethod
    def _invoke(entry: _Registered, args: tuple[Any, ...], named: dict[str, Any]) -> Awaitable[Any]:
        if entry.is_async:
            return typing.cast(Awaitable[Any], entry.function(*args, **named))
        # A blocking procedure must not stall the other calls this process is serving; it runs
        # in a copy of this context so that `call_context()` answers in its thread too.
        return asyncio.get_running_loop().run_in_executor(
            None, contextvars.copy_context().run, functools.partial(entry.function, *args, **named)
        )
