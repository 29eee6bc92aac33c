"""The `system.*` introspection procedures, answered from a procedure catalogue.

Pure: imports only the neutral vocabulary (no aiohttp, no grpc, no I/O). Implements
`system.listMethods`, `system.methodHelp` and `system.methodSignature` of the XML-RPC
introspection spec (http://xmlrpc-c.sourceforge.net/introspection.html) and
`system.getCapabilities` (http://xmlrpc-epi.sourceforge.net/specs/rfc.system.getCapabilities.php),
and OpenRPC's `rpc.discover` (bridge.openrpc).
It also lists and describes `system.jobStatus`, `system.jobResult` (docs/jobs.md) and
`system.listEvents` and `system.webhooks.*` (docs/events.md), which the sidecar answers, so the
frontend forwards them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import INVALID_PARAMS, METHOD_NOT_FOUND, fault
from bridge.openrpc import DISCOVER, discover
from bridge.procedures import ProcedureInfo, method_signatures

LIST_METHODS: Final = "system.listMethods"
METHOD_HELP: Final = "system.methodHelp"
METHOD_SIGNATURE: Final = "system.methodSignature"
GET_CAPABILITIES: Final = "system.getCapabilities"
MULTICALL: Final = "system.multicall"
JOB_STATUS: Final = "system.jobStatus"
JOB_RESULT: Final = "system.jobResult"
LIST_EVENTS: Final = "system.listEvents"
WEBHOOKS_ADD: Final = "system.webhooks.add"
WEBHOOKS_LIST: Final = "system.webhooks.list"
WEBHOOKS_REMOVE: Final = "system.webhooks.remove"
WEBHOOKS_DELIVERIES: Final = "system.webhooks.deliveries"
WEBHOOKS_REDELIVER: Final = "system.webhooks.redeliver"

# Answered here; system.multicall is not (the XML-RPC frontend runs it), but it is described here.
INTROSPECTION_METHODS: Final = frozenset({LIST_METHODS, METHOD_HELP, METHOD_SIGNATURE, GET_CAPABILITIES})
# Answered by the sidecar, which keeps the jobs; listed and described here, never answered here.
JOB_METHODS: Final = frozenset({JOB_STATUS, JOB_RESULT})
# Answered by the sidecar from the hooks workers declare (docs/events.md); never answered here.
# An API user's own webhook listeners (docs/events.md); answered by the sidecar, which keeps them.
WEBHOOK_METHODS: Final = frozenset(
    {WEBHOOKS_ADD, WEBHOOKS_LIST, WEBHOOKS_REMOVE, WEBHOOKS_DELIVERIES, WEBHOOKS_REDELIVER}
)
SIDECAR_METHODS: Final = JOB_METHODS | WEBHOOK_METHODS | {LIST_EVENTS}
# Their answer holds a secret shown once (a listener's whsec_...): the call log never keeps it.
SECRET_RESULTS: Final = frozenset({WEBHOOKS_ADD})

# name -> (help, signatures), signatures as `system.methodSignature` returns them.
_SYSTEM_DESCRIPTIONS: Final[Mapping[str, tuple[str, list[list[str]]]]] = {
    LIST_METHODS: (
        "Return the names of the procedures this server offers, system.* included.",
        [["array"]],
    ),
    METHOD_HELP: (
        "Return the documentation of the named procedure as a string.",
        [["string", "string"]],
    ),
    METHOD_SIGNATURE: (
        'Return the signatures of the named procedure as [return type, param types...] lists, or "undef".',
        [["array", "string"]],
    ),
    GET_CAPABILITIES: (
        "Return a struct of the specifications this server implements, each with specUrl and specVersion.",
        [["struct"]],
    ),
    MULTICALL: (
        "Run an array of {methodName, params} structs in order and return one entry per call: "
        "[result] on success or a fault struct. XML-RPC only; JSON-RPC clients send a batch.",
        [["array", "array"]],
    ),
    JOB_STATUS: (
        "Return the state of a background job as a struct: id, state (queued, running, succeeded or "
        "failed), procedure, and created, started and finished (ISO 8601 text in UTC, or nil). A job "
        "started by an authenticated procedure is visible only to its user, who must authenticate.",
        [["struct", "string"]],
    ),
    JOB_RESULT: (
        "Return the result of a finished background job, or its fault when it failed; a job still "
        "queued or running gives fault -32008, an unknown id -32009.",
        [],  # any result type: methodSignature answers "undef"
    ),
    LIST_EVENTS: (
        "Return the event types workers may emit, sorted by name: one struct per type with name, "
        "fields (the data fields it may carry), help, and auth (true when only authenticated "
        "subscribers receive it).",
        [["array"]],
    ),
    WEBHOOKS_ADD: (
        "Add a webhook listener of your own: add(url, events, match) with an https URL, an array of "
        'event types (or ["*"]) and a filter struct (may be empty); returns a struct with id and '
        "secret (whsec_..., shown only this once). Authentication required; fault -32010 when refused.",
        [["struct", "string", "array", "struct"]],
    ),
    WEBHOOKS_LIST: (
        "Return your webhook listeners: one struct each with id, url, events, match, enabled, "
        "disabled_reason, failing_since and created. Authentication required.",
        [["array"]],
    ),
    WEBHOOKS_REMOVE: (
        "Delete one of your webhook listeners and its delivery log; returns true. Fault -32011 for an "
        "unknown id. Authentication required.",
        [["boolean", "string"]],
    ),
    WEBHOOKS_DELIVERIES: (
        "Return the newest deliveries (up to 100) of one of your listeners, newest first, each with "
        "id, event, type, state, created, finished, next_attempt and attempts (every attempt with "
        "time, status or error, duration_ms and excerpt). Authentication required.",
        [["array", "string"]],
    ),
    WEBHOOKS_REDELIVER: (
        "Queue one delivery of your listeners again, due now, with the same webhook-id; returns true. "
        "Fault -32012 for an unknown id. Authentication required.",
        [["boolean", "string"]],
    ),
}

# system.getCapabilities: the xmlrpc-epi convention of {name: {specUrl, specVersion}}. The answer
# describes the endpoint, which speaks both protocols, so it is the same whichever one asks.
# JSON-RPC carries its version as the string "2.0" on every request, so its entry keeps that spelling.
CAPABILITIES: Final[Mapping[str, Mapping[str, Any]]] = {
    "faults_interop": {
        "specUrl": "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
        "specVersion": 20010516,
    },
    "introspection": {
        "specUrl": "http://xmlrpc-c.sourceforge.net/introspection.html",
        "specVersion": 1,
    },
    "multicall": {"specUrl": "http://www.xmlrpc.com/discuss/msgReader$1208", "specVersion": 1},
    "nil": {"specUrl": "http://ontosys.com/xml-rpc/extensions.php", "specVersion": 20010518},
    "json-rpc": {"specUrl": "https://www.jsonrpc.org/specification", "specVersion": "2.0"},
}


def is_introspection(name: str) -> bool:
    """True when `name` is one of the `system.*` procedures this module answers."""
    return name in INTROSPECTION_METHODS or name == DISCOVER


def system_methods(*, multicall: bool) -> list[str]:
    """The `system.*` names a client can call, with `system.multicall` where the protocol has it."""
    names = [*INTROSPECTION_METHODS, *SIDECAR_METHODS]
    return sorted([*names, MULTICALL]) if multicall else sorted(names)


def answer(
    call: Call, catalogue: Sequence[ProcedureInfo], *, multicall: bool = True, api_version: int = 0
) -> Outcome:
    """Answer one introspection call from `catalogue` (already filtered to what the caller may see).

    Args:
        multicall: whether `system.multicall` is offered on the caller's protocol (XML-RPC only).
        api_version: the `/rpc/v{N}` the caller used (0: none), the version `rpc.discover` reports.
    """
    if call.procedure == DISCOVER:
        arguments = _positional(call)
        if isinstance(arguments, Fault):
            return arguments
        # OpenRPC 1.3.2, "Service Discovery Method": rpc.discover takes no parameters.
        problem = _expect_arity(DISCOVER, arguments, 0)
        return problem or Success(discover(catalogue, str(api_version)))
    handlers: Mapping[str, Callable[[list[Any], Sequence[ProcedureInfo], bool], Outcome]] = {
        LIST_METHODS: _list_methods,
        METHOD_HELP: _method_help,
        METHOD_SIGNATURE: _method_signature,
        GET_CAPABILITIES: _get_capabilities,
    }
    handler = handlers.get(call.procedure)
    if handler is None:
        return fault(METHOD_NOT_FOUND, f"Method not found: {call.procedure}")
    arguments = _positional(call)
    if isinstance(arguments, Fault):
        return arguments
    return handler(arguments, catalogue, multicall)


def _positional(call: Call) -> list[Any] | Fault:
    """The call's arguments as a list; by name, only `name` is understood (`{"name": "echo"}`)."""
    if call.named is None:
        return list(call.params)
    unknown = set(call.named) - {"name"}
    if unknown:
        return fault(INVALID_PARAMS, f"{call.procedure} got unexpected parameters: {sorted(unknown)}")
    return [call.named["name"]] if "name" in call.named else []


def _expect_arity(name: str, arguments: list[Any], count: int) -> Fault | None:
    """A fault when the argument count is wrong, else None."""
    if len(arguments) == count:
        return None
    return fault(INVALID_PARAMS, f"{name} takes {count} parameter(s), got {len(arguments)}")


def _list_methods(arguments: list[Any], catalogue: Sequence[ProcedureInfo], multicall: bool) -> Outcome:
    """system.listMethods: every visible procedure name and the system names, sorted."""
    problem = _expect_arity(LIST_METHODS, arguments, 0)
    if problem is not None:
        return problem
    names = {info.name for info in catalogue} | set(system_methods(multicall=multicall))
    return Success(sorted(names))


def _describe(
    name: str, arguments: list[Any], catalogue: Sequence[ProcedureInfo], multicall: bool
) -> ProcedureInfo | tuple[str, list[list[str]]] | Fault:
    """Find the procedure that methodHelp / methodSignature asks about."""
    problem = _expect_arity(name, arguments, 1)
    if problem is not None:
        return problem
    target = arguments[0]
    if not isinstance(target, str):
        return fault(INVALID_PARAMS, f"{name} takes a procedure name (string)")
    if target in system_methods(multicall=multicall):
        return _SYSTEM_DESCRIPTIONS[target]
    for info in catalogue:
        if info.name == target:
            return info
    return fault(METHOD_NOT_FOUND, f"Method not found: {target}")


def _method_help(arguments: list[Any], catalogue: Sequence[ProcedureInfo], multicall: bool) -> Outcome:
    """system.methodHelp: the procedure's documentation ("" when it has none)."""
    found = _describe(METHOD_HELP, arguments, catalogue, multicall)
    if isinstance(found, Fault):
        return found
    if isinstance(found, ProcedureInfo):
        return Success(found.help)
    return Success(found[0])


def _method_signature(arguments: list[Any], catalogue: Sequence[ProcedureInfo], multicall: bool) -> Outcome:
    """system.methodSignature: [[return, params...], ...] per arity, or "undef" when types are unknown."""
    found = _describe(METHOD_SIGNATURE, arguments, catalogue, multicall)
    if isinstance(found, Fault):
        return found
    if isinstance(found, ProcedureInfo):
        return Success(method_signatures(found))
    return Success([list(signature) for signature in found[1]] or "undef")


def _get_capabilities(arguments: list[Any], catalogue: Sequence[ProcedureInfo], multicall: bool) -> Outcome:
    """system.getCapabilities: the specifications this server implements."""
    problem = _expect_arity(GET_CAPABILITIES, arguments, 0)
    if problem is not None:
        return problem
    return Success({name: dict(spec) for name, spec in CAPABILITIES.items()})
