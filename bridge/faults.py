"""Fault codes and the one table from gRPC status to fault code and to HTTP status.

Pure; imports only `bridge.errors`. XML-RPC and JSON-RPC share every number (DESIGN.md, Errors):
the interoperability codes of http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php, which
JSON-RPC 2.0 section 5.1 reuses, and bridge conditions in -32000..-32099.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bridge.errors import Fault, Status

# Interoperability codes (specVersion 20010516) and JSON-RPC 2.0, section 5.1.
PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
APPLICATION_ERROR: Final = -32500
SYSTEM_ERROR: Final = -32400
TRANSPORT_ERROR: Final = -32300

# Bridge conditions: JSON-RPC 2.0 reserves -32000..-32099 for "implementation-defined server-errors".
UNAUTHENTICATED: Final = -32001
FORBIDDEN: Final = -32002
DEADLINE_EXCEEDED: Final = -32003
WORKER_UNAVAILABLE: Final = -32004
OVERLOADED: Final = -32005
REQUEST_TOO_LARGE: Final = -32006
VALUE_NOT_REPRESENTABLE: Final = -32007
# Background jobs (docs/jobs.md): the job exists but has no result yet; no such job (for this caller).
JOB_NOT_FINISHED: Final = -32008
UNKNOWN_JOB: Final = -32009
# Webhook listeners (docs/events.md, system.webhooks.*): input refused at registration; no such
# listener or delivery (for this caller: another user's is answered exactly like a missing one).
INVALID_LISTENER: Final = -32010
UNKNOWN_LISTENER: Final = -32011
UNKNOWN_DELIVERY: Final = -32012

# JSON-RPC 2.0 section 5.1 gives these messages; XML-RPC faults use the same words.
STANDARD_MESSAGES: Final[Mapping[int, str]] = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    UNAUTHENTICATED: "Unauthenticated",
    FORBIDDEN: "Forbidden",
    DEADLINE_EXCEEDED: "Deadline exceeded",
    WORKER_UNAVAILABLE: "Worker unavailable",
    OVERLOADED: "Overloaded",
    REQUEST_TOO_LARGE: "Request too large",
    VALUE_NOT_REPRESENTABLE: "Value not representable",
    JOB_NOT_FINISHED: "Job not finished",
    UNKNOWN_JOB: "Unknown job",
    INVALID_LISTENER: "Invalid listener",
    UNKNOWN_LISTENER: "Unknown listener",
    UNKNOWN_DELIVERY: "Unknown delivery",
}

# The one table from gRPC status (transport, deadline, auth, routing) to fault code.
STATUS_TO_FAULT_CODE: Final[Mapping[Status, int]] = {
    Status.INVALID_ARGUMENT: INVALID_PARAMS,
    Status.NOT_FOUND: METHOD_NOT_FOUND,
    Status.UNIMPLEMENTED: METHOD_NOT_FOUND,
    Status.UNAUTHENTICATED: UNAUTHENTICATED,
    Status.PERMISSION_DENIED: FORBIDDEN,
    Status.DEADLINE_EXCEEDED: DEADLINE_EXCEEDED,
    Status.CANCELLED: DEADLINE_EXCEEDED,
    Status.UNAVAILABLE: WORKER_UNAVAILABLE,
    Status.RESOURCE_EXHAUSTED: OVERLOADED,
}

# The one table from fault code to HTTP status, for pickle-over-HTTP (XML-RPC and JSON-RPC
# answer faults with HTTP 200 by their specs).
FAULT_CODE_TO_HTTP: Final[Mapping[int, int]] = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    METHOD_NOT_FOUND: 404,
    INVALID_PARAMS: 400,
    INTERNAL_ERROR: 500,
    UNAUTHENTICATED: 401,
    FORBIDDEN: 403,
    DEADLINE_EXCEEDED: 504,
    WORKER_UNAVAILABLE: 503,
    OVERLOADED: 503,
    REQUEST_TOO_LARGE: 413,
    VALUE_NOT_REPRESENTABLE: 400,
    JOB_NOT_FINISHED: 409,
    UNKNOWN_JOB: 404,
    INVALID_LISTENER: 400,
    UNKNOWN_LISTENER: 404,
    UNKNOWN_DELIVERY: 404,
}


def fault(code: int, message: str | None = None, data: Any = None) -> Fault:
    """Build a fault, defaulting the message to the standard words for the code."""
    return Fault(code, message if message is not None else STANDARD_MESSAGES.get(code, "Error"), data)


def fault_for_status(status: Status, detail: str = "") -> Fault:
    """Turn a transport, deadline, auth or routing status into the fault clients receive.

    The message is always the standard words for the code, so JSON-RPC clients see exactly the
    spec's messages; the detail travels as `data` for bridge conditions (-32000..-32099) only,
    where it helps the client (which worker is missing, which limit was hit).
    """
    code = STATUS_TO_FAULT_CODE.get(status, INTERNAL_ERROR)
    in_bridge_range = -32099 <= code <= -32000
    standard = STANDARD_MESSAGES[code]
    # The sidecar's detail may itself start with the standard words ("Unauthenticated", or
    # "Unauthenticated: authentication temporarily unavailable"): say them once.
    detail = "" if detail == standard else detail.removeprefix(f"{standard}: ")
    return Fault(code, standard, detail if detail and in_bridge_range else None)


def http_status_for(code: int) -> int:
    """HTTP status for a fault on protocols that use one (pickle); application faults get 422."""
    return FAULT_CODE_TO_HTTP.get(code, 422)
