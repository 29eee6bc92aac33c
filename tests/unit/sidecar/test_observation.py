"""ObserveCalls and RecordCalls: one summary per call, classified, naming the call as it was answered."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bridge import metadata
from bridge.auth.verifier import Verifier
from bridge.calls import Success
from bridge.errors import Fault, Status
from bridge.procedures import Parameter, ProcedureInfo
from bridge.sidecar.authentication import AuthenticateCalls
from bridge.sidecar.call_recording import RecordCalls, render_payload
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply, chain
from bridge.sidecar.observation import CallSummary, ObserveCalls, write_access_line
from bridge.store.records import REDACTED, CallRecord
from tests.unit.sidecar.fakes import FakeVerifier, Terminal, a_call, request_bytes, response_bytes


async def observe(reply: ProxyReply, call: ProxiedCall | None = None) -> CallSummary:
    summaries: list[CallSummary] = []
    await ObserveCalls([summaries.append])(call or a_call(), Terminal(reply))
    assert len(summaries) == 1
    return summaries[0]


@pytest.mark.parametrize(
    ("reply", "outcome", "code"),
    [
        (ProxyReply(response_bytes(Success(3))), "ok", None),
        (ProxyReply(response_bytes(Fault(4, "no such user"))), "fault", 4),
        (ProxyReply.failure(Status.UNAVAILABLE, "worker unreachable"), "error", None),
    ],
    ids=["ok", "fault", "status"],
)
async def test_each_reply_is_classified_once(reply: ProxyReply, outcome: str, code: int | None) -> None:
    summary = await observe(reply)
    assert (summary.outcome, summary.fault_code, summary.status) == (outcome, code, reply.status)


async def test_a_call_that_raises_is_still_reported_then_the_error_goes_on() -> None:
    summaries: list[CallSummary] = []

    async def broken(call: ProxiedCall) -> ProxyReply:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await ObserveCalls([summaries.append])(a_call(), broken)
    assert [s.status for s in summaries] == [Status.CANCELLED]


async def test_the_summary_names_the_caller_an_inner_interceptor_proved() -> None:
    summaries: list[CallSummary] = []
    creds = {
        metadata.AUTH_USER: "ada",
        metadata.AUTH_NONCE: "n" * 16,
        metadata.AUTH_TIMESTAMP: "1",
        metadata.AUTH_SIGNATURE: "good",
    }
    verifier: Any = FakeVerifier()
    checked: Verifier = verifier
    auth = AuthenticateCalls(checked, {"secret": ProcedureInfo("secret", auth=True)}.get, lambda f: None)
    handle = chain([ObserveCalls([summaries.append]), auth], Terminal())
    await handle(a_call("secret", metadata=creds))
    assert summaries[0].call.caller == "ada"


async def test_a_refused_call_is_logged_without_the_auth_params_it_carried() -> None:
    """The call log must never hold a signature: the observer sees the request with them taken out."""
    summaries: list[CallSummary] = []
    verifier: Any = FakeVerifier()
    checked: Verifier = verifier
    auth = AuthenticateCalls(checked, {"secret": ProcedureInfo("secret", auth=True)}.get, lambda f: None)
    handle = chain([ObserveCalls([summaries.append]), auth], Terminal())
    signed = request_bytes("secret", "n" * 16, 1, "ada", "forged-signature", "payload")
    reply = await handle(a_call("secret", request=signed))
    assert reply.status is Status.UNAUTHENTICATED
    assert b"forged-signature" not in summaries[0].call.request


async def test_the_access_line_has_one_line_per_call_with_its_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    summary = await observe(ProxyReply(response_bytes(Success(1))), a_call("echo", caller="ada"))
    with caplog.at_level(logging.INFO, logger="rpcbridge.sidecar.access"):
        write_access_line(summary)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "request_id=req-1" in line and "procedure=echo" in line and "caller=ada" in line
    assert "outcome=ok" in line


async def test_a_recorded_call_carries_who_what_and_how_it_ended() -> None:
    records: list[CallRecord] = []
    summary = await observe(ProxyReply(response_bytes(Fault(4, "no"))), a_call("echo", caller="ada"))
    RecordCalls(records.append, {}.get)(summary)
    (record,) = records
    assert (record.direction, record.procedure, record.user, record.outcome, record.fault_code) == (
        "incoming",
        "echo",
        "ada",
        "fault",
        4,
    )
    assert (record.arguments, record.result) == (None, None)  # log_arguments is off


def test_rendered_arguments_hide_the_parameters_a_procedure_declares_sensitive() -> None:
    info = ProcedureInfo(
        "login", params=(Parameter("user"), Parameter("password")), sensitive_params=("password",)
    )
    arguments, result = render_payload(
        request_bytes("login", "ada", "hunter2"), response_bytes(Success(True)), info
    )
    assert arguments == repr(["ada", REDACTED])
    assert result is not None and "True" in result


def test_unreadable_payloads_render_as_nothing() -> None:
    assert render_payload(b"\xff\xff", b"", None) == (None, None)


async def test_every_sink_gets_the_same_summary() -> None:
    seen: list[list[CallSummary]] = [[], []]

    async def proceed(call: ProxiedCall) -> ProxyReply:
        return ProxyReply(b"")

    handler: Proceed = proceed
    await ObserveCalls([seen[0].append, seen[1].append])(a_call(), handler)
    assert seen[0] == seen[1] and len(seen[0]) == 1
