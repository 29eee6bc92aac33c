"""The Python worker SDK: register procedures with `@worker.procedure` and hooks with `worker.hook`,
run decoded calls and collect the events they emit.

Pure of transport: no grpc, no aiohttp. `bridge.rpc.worker_server` serves a `Worker` over gRPC.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import functools
import inspect
import logging
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from bridge.calls import Call, Outcome, Success
from bridge.errors import BridgeError, ConfigError, Fault
from bridge.events.model import EmittedEvent, is_event_type, whitelist
from bridge.faults import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, UNAUTHENTICATED, fault
from bridge.procedures import HookInfo, Parameter, ProcedureInfo, type_name_for_hint

log = logging.getLogger("rpcbridge.worker")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, passed first to procedures declared with `auth=True`."""

    username: str

    def __str__(self) -> str:
        return self.username


class EmitError(BridgeError):
    """An emit the SDK refuses: an undeclared hook, data that is not a struct, or no call running."""


class _CallEvents:
    """The events of the call that is running; closed when its reply is made, so late emits fail."""

    __slots__ = ("events", "open")

    def __init__(self) -> None:
        self.events: list[EmittedEvent] = []
        self.open = True


# The running call's events. Sync procedures run in a thread with a copy of the call's context
# (run_in_executor alone would not carry it), so both kinds reach the same list.
_CURRENT_CALL: contextvars.ContextVar[_CallEvents | None] = contextvars.ContextVar(
    "rpcbridge_call_events", default=None
)


class Hook:
    """A declared event type; `emit(data)` sends the fields it provides with the running call's reply."""

    def __init__(self, info: HookInfo) -> None:
        self.info = info
        self._provides = frozenset(info.fields)

    @property
    def name(self) -> str:
        """The event type, such as "person.saved"."""
        return self.info.name

    def emit(self, data: Mapping[str, Any]) -> None:
        """Queue an event for the running call's reply; fields outside `provides` are dropped here.

        Raises EmitError outside a procedure call (docs/events.md: such an event has no reply to
        travel with, so it is refused rather than lost).
        """
        if not isinstance(data, Mapping):
            raise EmitError(f"hook {self.name!r}: emit takes a struct (a mapping), not {type(data).__name__}")
        current = _CURRENT_CALL.get()
        if current is None or not current.open:
            raise EmitError(
                f"hook {self.name!r}: emit is only possible while a procedure call runs; "
                "its events travel with that call's reply"
            )
        now = datetime.datetime.now(datetime.UTC)
        current.events.append(EmittedEvent(self.name, whitelist(data, self._provides), now))


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
    # A plain `def` declared blocking=False runs on the event loop, with no thread hand-off.
    blocking: bool


class Worker:
    """A set of procedures, registered with `@worker.procedure`, that a worker process serves."""

    def __init__(self) -> None:
        self._procedures: dict[str, _Registered] = {}
        self._hooks: dict[str, Hook] = {}

    def hook(
        self,
        name: str,
        provides: Iterable[str] = (),
        *,
        auth: bool = False,
        help: str = "",  # the name DESIGN.md gives it, shadowing the builtin here only
    ) -> Hook:
        """Declare an event type; only the fields named in `provides` ever leave this process.

        Args:
            auth: only authenticated subscribers may receive these events.
            help: what the event means, listed by `system.listEvents`.
        """
        if not is_event_type(name):
            raise ConfigError(
                f"a hook's name is letters, digits and _ . : - (such as person.saved), not {name!r}"
            )
        if name in self._hooks:
            raise ConfigError(f"hook {name!r} is declared twice")
        fields = tuple(provides)
        if isinstance(provides, str) or not all(isinstance(f, str) and f for f in fields):
            raise ConfigError(f"hook {name!r}: provides is a list of field names")
        hook = self._hooks[name] = Hook(HookInfo(name, fields, help, auth))
        return hook

    def emit(self, name: str, data: Mapping[str, Any]) -> None:
        """The same as `hook.emit(data)` for the hook declared as `name`; EmitError if there is none."""
        hook = self._hooks.get(name)
        if hook is None:
            raise EmitError(f"no hook {name!r} is declared on this worker (worker.hook({name!r}, ...))")
        hook.emit(data)

    def hooks(self) -> list[HookInfo]:
        """Descriptors of every declared hook, in declaration order."""
        return [hook.info for hook in self._hooks.values()]

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
        blocking: bool = True,
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
        blocking: bool = True,
    ) -> F | Callable[[F], F]:
        """Register a procedure: name from the function, help from its docstring, signature from hints.

        Args:
            name: the public name (default: the function's name), e.g. "math.add".
            auth: the caller must authenticate; the function then receives a `Caller` first.
            version: API version(s) the procedure is registered for (default: every version).
            background: run as a background job; the caller gets a job id at once.
            sensitive: parameter names whose values are never written to the call log.
            blocking: for a plain `def`: True (the default) runs each call in a thread, so a
                procedure that blocks never stalls the others; False runs it on the event loop,
                which saves the thread hand-off for quick procedures that never block. Ignored
                for `async def`, which always runs on the loop.
        """

        def register(func: F) -> F:
            versions = (version,) if isinstance(version, int) else tuple(version or ())
            self._add(func, name or func.__name__, auth, versions, background, tuple(sensitive), blocking)
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
        blocking: bool,
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
        self._procedures[name] = _Registered(
            info, func, signature, inspect.iscoroutinefunction(func), blocking
        )

    def describe(self) -> list[ProcedureInfo]:
        """Descriptors of every registered procedure, in registration order."""
        return [entry.info for entry in self._procedures.values()]

    async def run(
        self, call: Call, caller: Caller | None = None, context: CallContext = _NO_CONTEXT
    ) -> Outcome:
        """Run one call; never raises: faults, bad arguments and crashes all become outcomes."""
        outcome, _ = await self.run_emitting(call, caller, context)
        return outcome

    async def run_emitting(
        self, call: Call, caller: Caller | None = None, context: CallContext = _NO_CONTEXT
    ) -> tuple[Outcome, list[EmittedEvent]]:
        """Run one call like `run`; also return the events it emitted, whatever its outcome."""
        current = _CallEvents()
        token = _CURRENT_CALL.set(current)
        try:
            return await self._run(call, caller, context), current.events
        finally:
            current.open = False
            _CURRENT_CALL.reset(token)

    async def _run(self, call: Call, caller: Caller | None, context: CallContext) -> Outcome:
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
            if entry.is_async:
                result = await entry.function(*args, **named)
            elif entry.blocking:
                # A blocking procedure must not stall the other calls this process is serving; it
                # runs in a copy of this context so that `call_context()` answers in its thread too.
                result = await asyncio.get_running_loop().run_in_executor(
                    None, contextvars.copy_context().run, functools.partial(entry.function, *args, **named)
                )
            else:
                result = entry.function(*args, **named)
        except Fault as raised:
            return raised
        except Exception:
            # The client sees only -32603; the operator finds the traceback by the request id.
            log.exception("procedure %s failed (request %s)", call.procedure, context.request_id or "-")
            return fault(INTERNAL_ERROR)
        finally:
            _current_context.reset(token)
        return Success(result)
