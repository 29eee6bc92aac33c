"""AuthenticateCalls: who must prove themselves, what the worker then sees, and how refusals end."""

from __future__ import annotations

from typing import Any

from bridge import metadata
from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.verifier import Verifier
from bridge.calls import Call
from bridge.errors import Status
from bridge.procedures import ProcedureInfo
from bridge.rpc.invoke_codec import call_from_bytes
from bridge.sidecar.authentication import AuthenticateCalls
from bridge.sidecar.interception import ProxiedCall
from tests.unit.sidecar.fakes import FakeVerifier, Terminal, a_call, request_bytes

CATALOGUE = {
    "open": ProcedureInfo("open"),
    "secret": ProcedureInfo("secret", auth=True),
}

HEADER_CREDS = {
    metadata.AUTH_FORM: "header",
    metadata.AUTH_USER: "ada",
    metadata.AUTH_NONCE: "n" * 16,
    metadata.AUTH_TIMESTAMP: "1700000000",
    metadata.AUTH_SIGNATURE: "good",
}


def interceptor(verifier: FakeVerifier, failures: list[AuthFailure]) -> AuthenticateCalls:
    fake: Any = verifier  # a structural stand-in for Verifier
    checked: Verifier = fake
    return AuthenticateCalls(checked, CATALOGUE.get, failures.append)


async def run(
    call: ProxiedCall, verifier: FakeVerifier | None = None
) -> tuple[Any, Terminal, list[AuthFailure]]:
    failures: list[AuthFailure] = []
    terminal = Terminal()
    reply = await interceptor(verifier or FakeVerifier(), failures)(call, terminal)
    return reply, terminal, failures


async def test_a_procedure_without_auth_passes_untouched_and_unverified() -> None:
    verifier = FakeVerifier()
    call = a_call("open", 1)
    _, terminal, _ = await run(call, verifier)
    assert terminal.calls == [call]
    assert verifier.checked == []


async def test_header_credentials_prove_the_caller_the_worker_sees() -> None:
    call = a_call("secret", 1, metadata=HEADER_CREDS)
    reply, terminal, failures = await run(call)
    assert reply.status is Status.OK
    assert terminal.calls[0].caller == "ada"
    assert terminal.calls[0].request == call.request
    assert call.caller is None  # the received call is never changed in place
    assert failures == []


async def test_param_credentials_are_taken_out_before_the_worker_sees_the_call() -> None:
    request = request_bytes("secret", "n" * 16, 1700000000, "ada", "good", "payload")
    reply, terminal, _ = await run(a_call("secret", request=request))
    assert reply.status is Status.OK
    forwarded = terminal.calls[0]
    assert forwarded.caller == "ada"
    assert call_from_bytes(forwarded.request) == Call("secret", ("payload",))


async def test_a_refused_call_ends_with_its_status_and_never_reaches_the_worker() -> None:
    bad = {**HEADER_CREDS, metadata.AUTH_SIGNATURE: "forged"}
    reply, terminal, failures = await run(a_call("secret", metadata=bad))
    assert reply.status is Status.UNAUTHENTICATED
    assert terminal.calls == []
    assert [f.reason for f in failures] == [Reason.BAD_SIGNATURE]


async def test_missing_credentials_are_malformed_and_leave_the_request_as_received() -> None:
    call = a_call("secret", 1)
    reply, terminal, failures = await run(call)
    assert reply.status is Status.UNAUTHENTICATED
    assert [f.reason for f in failures] == [Reason.MALFORMED]
    assert terminal.calls == []


async def test_metadata_can_demand_authentication_for_any_procedure() -> None:
    """The frontend demands it for pickle-over-HTTP: the caller then travels even to open procedures."""
    demanded = {**HEADER_CREDS, metadata.AUTH_REQUIRED: "1"}
    _, terminal, _ = await run(a_call("open", metadata=demanded))
    assert terminal.calls[0].caller == "ada"
    reply, terminal, _ = await run(a_call("open", metadata={metadata.AUTH_REQUIRED: "1"}))
    assert reply.status is Status.UNAUTHENTICATED
    assert terminal.calls == []


async def test_the_http_scope_reaches_the_verifier() -> None:
    verifier = FakeVerifier()
    await run(a_call("secret", metadata={**HEADER_CREDS, metadata.HTTP_SCOPE: "scope-1"}), verifier)
    assert [(procedure, scope) for _, procedure, scope in verifier.checked] == [("secret", "scope-1")]
