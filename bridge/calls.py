"""The neutral vocabulary between layers: `Call` in, `Outcome` out, and the request context.

Pure data; imports only `bridge.errors`. Nothing past the frontend sees an XML element, a JSON
dict or a pickle: codecs turn those into these types and back.

Values inside calls and results are plain Python values ("neutral values"):
None, bool, int (any size), float (NaN and infinities included), str, bytes,
datetime.datetime (naive, or aware with a fixed offset), decimal.Decimal,
list (ordered), dict with str keys (ordered); and Python's own tuple, set, frozenset,
datetime.date, datetime.time, datetime.timedelta, uuid.UUID and complex, which codecs that have
no such type write as their nearest one (docs/protocols.md, Values).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeAlias

from bridge.errors import Fault
from bridge.procedures import ProcedureInfo

NeutralValue: TypeAlias = Any
"""A value made only of the types listed in this module's docstring."""


class _Absent(enum.Enum):
    """Sentinel type for "not present", where a spec tells absent apart from null."""

    ABSENT = "ABSENT"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent.ABSENT
"""Marks a missing member, such as the `id` of a JSON-RPC notification (which differs from null)."""

Absent: TypeAlias = _Absent


@dataclass(frozen=True, slots=True)
class Call:
    """One procedure call, decoded from any protocol.

    `named` is set (possibly empty) when the client passed arguments by name (JSON-RPC
    `"params": {...}`); then `params` is empty.
    """

    procedure: str
    params: tuple[NeutralValue, ...] = ()
    named: Mapping[str, NeutralValue] | None = None


@dataclass(frozen=True, slots=True)
class Success:
    """A procedure's result."""

    value: NeutralValue


Outcome: TypeAlias = Success | Fault
"""What a call comes to: a result, or a fault with a code."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """Authentication fields lifted from a request, to be verified by the sidecar.

    `form` is "params" (the rpcenable-compatible first four params) or "header" (the
    `Authorization: RPCBRIDGE-HMAC-SHA256 ...` header, which also signs method, path and body).
    """

    form: str
    username: str
    nonce: str
    timestamp: str
    signature: str
    method: str = ""
    path: str = ""
    body_sha256: str = ""


@dataclass(frozen=True, slots=True)
class CallContext:
    """Request-level facts that travel with a call as gRPC metadata, not as arguments.

    Args:
        request_id: from `X-Request-Id` or made by the frontend; appears in logs and fault data.
        timeout: seconds the call may take, already clamped to the configured maximum.
        api_version: from `/rpc/v{N}`; 0 means any version.
        protocol: "xmlrpc", "jsonrpc", "pickle" or "grpc", for the call log.
        peer: the client's address as the frontend saw it.
        traceparent, tracestate: W3C Trace Context of the frontend's span, the parent of the next hop.
    """

    request_id: str
    timeout: float
    api_version: int = 0
    protocol: str = ""
    peer: str = ""
    credentials: Credentials | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    traceparent: str = ""
    tracestate: str = ""


class Invoker(Protocol):
    """The seam between the frontend and whatever runs calls (the sidecar over gRPC, or a fake).

    Transport, deadline, auth and routing failures come back as a `Fault` outcome (through
    `bridge.faults.fault_for_status`), never as an exception.
    """

    async def invoke(self, call: Call, context: CallContext) -> Outcome:
        """Run one call and return its outcome."""
        ...

    async def list_procedures(self, context: CallContext) -> list[ProcedureInfo] | Fault:
        """The catalogue visible to `context.api_version`, or a fault when it cannot be had."""
        ...

    async def ready(self) -> bool:
        """True when the catalogue is loaded and the far side is reachable."""
        ...
