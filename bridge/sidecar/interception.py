"""The interceptor seam: every proxied call passes a chain of small objects, built once at start-up.

No grpc. The dispatcher (`bridge.sidecar.service`) turns a received call into a `ProxiedCall`;
`bridge.rpc.proxy_server` turns the `ProxyReply` back into bytes or a status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bridge.errors import Status
from bridge.tracing import TraceParent


@dataclass(frozen=True, slots=True)
class ProxiedCall:
    """One call passing through the sidecar; frozen, so an interceptor passes on a changed copy.

    Setting `caller`, or taking the auth params out of `request`, is `dataclasses.replace(call, ...)`.
    """

    procedure: str
    api_version: int
    protocol: str
    request: bytes
    metadata: Mapping[str, str]
    peer: str
    request_id: str
    timeout: float | None
    caller: str | None = None
    forward_metadata: Mapping[str, str] = field(default_factory=dict)
    # The sidecar's span of this call: its trace id is logged, it is the worker's parent.
    trace: TraceParent | None = None


@dataclass(frozen=True, slots=True)
class ProxyReply:
    """The worker's serialized InvokeResponse, or the status that replaced it.

    `answered` is the call as the handler that answered saw it (interceptors pass on changed
    copies: the caller set, auth params taken out), so the outermost observer logs that one.
    """

    response: bytes = b""
    status: Status = Status.OK
    details: str = ""
    answered: ProxiedCall | None = None

    @classmethod
    def failure(cls, status: Status, details: str, answered: ProxiedCall | None = None) -> ProxyReply:
        """A reply that ends the call with a gRPC status instead of a response."""
        return cls(b"", status, details, answered)


Proceed = Callable[[ProxiedCall], Awaitable[ProxyReply]]


class Interceptor(Protocol):
    """One concern applied to every proxied call (auth, logging, metrics)."""

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        """Handle the call, usually by awaiting `proceed(call)` and looking at the reply."""
        ...


def chain(interceptors: Sequence[Interceptor], terminal: Proceed) -> Proceed:
    """Compose interceptors, first one outermost, around the terminal handler."""
    handler = terminal
    for interceptor in reversed(interceptors):
        handler = _bind(interceptor, handler)
    return handler


def _bind(interceptor: Interceptor, proceed: Proceed) -> Proceed:
    async def answered(call: ProxiedCall) -> ProxyReply:
        reply = await proceed(call)
        # The call as it went further in: what outer interceptors (the observer) report.
        return reply if reply.answered is not None else dataclasses.replace(reply, answered=call)

    async def handle(call: ProxiedCall) -> ProxyReply:
        return await interceptor(call, answered)

    return handle
