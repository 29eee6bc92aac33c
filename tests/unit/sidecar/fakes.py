"""Small fakes for the sidecar's interceptors and dispatcher: calls, a terminal that remembers, a verifier."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.auth.failures import AuthFailure, Reason
from bridge.calls import Call, Credentials, Outcome
from bridge.errors import Status
from bridge.rpc.values import call_to_request, outcome_to_response
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.interception import ProxiedCall, ProxyReply


def request_bytes(procedure: str, *params: Any, api_version: int = 0, protocol: str = "xmlrpc") -> bytes:
    """A serialized InvokeRequest, as the sidecar receives it."""
    return call_to_request(Call(procedure, tuple(params)), api_version, protocol).SerializeToString()


def response_bytes(outcome: Outcome) -> bytes:
    """A serialized InvokeResponse, as a worker answers."""
    return outcome_to_response(outcome).SerializeToString()


def a_call(procedure: str = "echo", *params: Any, **changes: Any) -> ProxiedCall:
    """A call as the dispatcher builds it, before any interceptor."""
    fields: dict[str, Any] = {
        "procedure": procedure,
        "api_version": 0,
        "protocol": "xmlrpc",
        "request": request_bytes(procedure, *params),
        "metadata": {},
        "peer": "ipv4:127.0.0.1:5000",
        "request_id": "req-1",
        "timeout": 5.0,
    }
    fields.update(changes)
    return ProxiedCall(**fields)


class Terminal:
    """The end of a chain: remembers each call it receives and answers `reply`."""

    def __init__(self, reply: ProxyReply | None = None) -> None:
        self.reply = reply or ProxyReply(b"worker answer")
        self.calls: list[ProxiedCall] = []

    async def __call__(self, call: ProxiedCall) -> ProxyReply:
        self.calls.append(call)
        return self.reply


@dataclasses.dataclass(frozen=True)
class FakeUser:
    username: str


class FakeVerifier:
    """Accepts the signature "good" for any user; refuses anything else as a bad signature."""

    def __init__(self) -> None:
        self.checked: list[tuple[Credentials, str, str]] = []

    async def verify(self, creds: Credentials, procedure: str, scope: str = "") -> FakeUser:
        self.checked.append((creds, procedure, scope))
        if creds.signature != "good":
            raise AuthFailure(Reason.BAD_SIGNATURE, "no")
        return FakeUser(creds.username)


class FakeWorkers:
    """A catalogue and an `invoke` that answers from a script and remembers what it sent."""

    def __init__(self, answer: bytes | tuple[Status, str] = b"worker answer") -> None:
        self.catalogue = Catalogue()
        self.answer = answer
        self.sent: list[tuple[str, bytes, Mapping[str, str], float | None]] = []

    async def invoke(
        self, address: str, request: bytes, extra: Sequence[tuple[str, str]], deadline: float | None
    ) -> bytes | tuple[Status, str]:
        self.sent.append((address, request, dict(extra), deadline))
        return self.answer
