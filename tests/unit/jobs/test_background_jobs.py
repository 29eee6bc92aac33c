"""The job interceptor: background calls stored before their id is answered; who may see which job."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import metadata
from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.signing import auth_params
from bridge.auth.verifier import Verifier
from bridge.calls import Outcome, Success
from bridge.errors import Fault, Status
from bridge.procedures import ProcedureInfo
from bridge.sidecar.interception import ProxiedCall, ProxyReply
from bridge.sidecar.jobs import JOB_CODEC, BackgroundJobs, job_status
from bridge.tracing import TraceParent
from tests.unit.auth.fakes import NOW, FakeUserStore, FixedClock, RecordingNonceStore
from tests.unit.jobs.fakes import T0, FakeJobStore, a_job, request_bytes

JOB_ID = "a" * 32
CATALOGUE = {
    "jobs.slow_add": ProcedureInfo("jobs.slow_add", background=True),
    "jobs.whoami": ProcedureInfo("jobs.whoami", auth=True, background=True),
    "jobs.v2": ProcedureInfo("jobs.v2", background=True, versions=(2,)),
    "echo": ProcedureInfo("echo"),
}


class Harness:
    """The interceptor over fakes, with what reached the worker and what was refused."""

    def __init__(self) -> None:
        self.store = FakeJobStore()
        self.users = FakeUserStore()
        self.nonces = RecordingNonceStore()
        self.accepted = 0
        self.auth_failures: list[AuthFailure] = []
        self.forwarded: list[ProxiedCall] = []
        verifier = Verifier(self.users, self.nonces, clock=FixedClock())
        self.jobs = BackgroundJobs(
            self.store,
            CATALOGUE.get,
            verifier,
            JOB_CODEC,
            self._accepted,
            self.auth_failures.append,
            clock=lambda: T0,
            new_id=lambda: JOB_ID,
        )

    def _accepted(self) -> None:
        self.accepted += 1

    async def _proceed(self, call: ProxiedCall) -> ProxyReply:
        self.forwarded.append(call)
        return ProxyReply(b"from the worker")

    async def call(
        self,
        procedure: str,
        *params: Any,
        named: dict[str, Any] | None = None,
        caller: str | None = None,
        received: dict[str, str] | None = None,
        api_version: int = 0,
        trace: TraceParent | None = None,
    ) -> ProxyReply:
        proxied = ProxiedCall(
            procedure=procedure,
            api_version=api_version,
            protocol="jsonrpc",
            request=request_bytes(procedure, *params, named=named),
            metadata=received or {},
            peer="127.0.0.1",
            request_id="req-1",
            timeout=30.0,
            caller=caller,
            forward_metadata={"x-extra": "1"},
            trace=trace,
        )
        return await self.jobs(proxied, self._proceed)

    async def ask(self, procedure: str, *params: Any, **options: Any) -> Outcome:
        reply = await self.call(procedure, *params, **options)
        assert reply.status is Status.OK, reply
        return JOB_CODEC.decode_outcome(reply.response)


@pytest.fixture
def harness() -> Harness:
    return Harness()


def signed(username: str, key: str) -> list[Any]:
    return auth_params(username, key, timestamp=NOW)


async def test_background_call_is_stored_before_its_id_is_answered(harness: Harness) -> None:
    """The job row (request, caller, protocol, request id) exists when the job id comes back."""
    outcome = await harness.ask("jobs.slow_add", 2, 3)
    assert outcome == Success(JOB_ID)
    job = harness.store.jobs[JOB_ID]
    assert (job.procedure, job.state, job.user, job.protocol, job.request_id, job.created_at) == (
        "jobs.slow_add",
        "queued",
        "",
        "jsonrpc",
        "req-1",
        T0,
    )
    assert job.request == request_bytes("jobs.slow_add", 2, 3)
    assert job.forward_metadata == {"x-extra": "1"}
    assert harness.accepted == 1
    assert harness.forwarded == []


async def test_a_jobs_runs_continue_the_trace_of_the_call_that_submitted_it(harness: Harness) -> None:
    """The submitting call's span is stored as the parent every run sends the worker."""
    trace = TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01", "congo=t61rcWkgMzE")
    await harness.ask("jobs.slow_add", 2, 3, trace=trace)
    assert harness.store.jobs[JOB_ID].forward_metadata == {
        "x-extra": "1",
        metadata.TRACEPARENT: trace.header,
        metadata.TRACESTATE: "congo=t61rcWkgMzE",
    }


async def test_job_of_an_auth_procedure_belongs_to_its_caller(harness: Harness) -> None:
    """The caller set by authentication is stored as the job's user."""
    await harness.ask("jobs.whoami", caller="alice")
    assert harness.store.jobs[JOB_ID].user == "alice"


async def test_unauthenticated_auth_background_call_is_refused(harness: Harness) -> None:
    """An auth background procedure reaching the interceptor without a caller is refused, not stored."""
    reply = await harness.call("jobs.whoami")
    assert reply.status is Status.UNAUTHENTICATED
    assert harness.store.jobs == {}


@pytest.mark.parametrize(
    ("procedure", "api_version"),
    [("echo", 0), ("no.such", 0), ("jobs.v2", 1)],
    ids=["ordinary", "unknown", "other-version"],
)
async def test_other_calls_pass_through(harness: Harness, procedure: str, api_version: int) -> None:
    """Ordinary, unknown, and wrong-version calls go on to the worker untouched; no job is made."""
    reply = await harness.call(procedure, api_version=api_version)
    assert reply.response == b"from the worker"
    assert [c.procedure for c in harness.forwarded] == [procedure]
    assert harness.store.jobs == {}


async def test_store_down_refuses_the_job(harness: Harness) -> None:
    """When the job cannot be stored the caller gets UNAVAILABLE, never a job id."""
    harness.store.down = True
    reply = await harness.call("jobs.slow_add", 2, 3)
    assert reply.status is Status.UNAVAILABLE
    assert harness.accepted == 0


async def test_status_of_an_anonymous_job(harness: Harness) -> None:
    """jobStatus answers the state and times as ISO text, by position or by name."""
    job = a_job(JOB_ID, state="running", started_at=T0)
    harness.store.jobs[JOB_ID] = job
    expected = {
        "id": JOB_ID,
        "state": "running",
        "procedure": "jobs.slow_add",
        "created": "2024-05-01T12:00:00+00:00",
        "started": "2024-05-01T12:00:00+00:00",
        "finished": None,
    }
    assert await harness.ask("system.jobStatus", JOB_ID) == Success(expected)
    assert await harness.ask("system.jobStatus", named={"id": JOB_ID}) == Success(expected)
    assert job_status(job) == expected


async def test_result_depends_on_the_state(harness: Harness) -> None:
    """Unfinished: -32008 with the state; finished: the stored response byte for byte; unknown: -32009."""
    harness.store.jobs["queued"] = a_job("queued")
    done = JOB_CODEC.encode_outcome(Success(5))
    harness.store.jobs["done"] = a_job("done", state="succeeded", response=done)
    failed = JOB_CODEC.encode_outcome(Fault(7, "no luck", {"why": "test"}))
    harness.store.jobs["failed"] = a_job("failed", state="failed", response=failed, fault_code=7)
    assert await harness.ask("system.jobResult", "queued") == Fault(
        -32008, "Job not finished", {"id": "queued", "state": "queued"}
    )
    assert (await harness.call("system.jobResult", "done")).response == done
    assert (await harness.call("system.jobResult", "failed")).response == failed
    assert await harness.ask("system.jobResult", "missing") == Fault(-32009, "Unknown job")


@pytest.mark.parametrize(
    "params", [(), ("a", "b"), (5,), ("a", "b", "c", "d", "e", "f")], ids=["none", "two", "int", "six"]
)
async def test_malformed_queries_are_invalid_params(harness: Harness, params: tuple[Any, ...]) -> None:
    """A query without exactly one string id (after auth params) is -32602."""
    outcome = await harness.ask("system.jobStatus", *params)
    assert isinstance(outcome, Fault) and outcome.code == -32602


async def test_owned_job_needs_its_user(harness: Harness) -> None:
    """Without credentials: unauthenticated; as the owner: visible; as another user: unknown job."""
    alice = await harness.users.add_user("alice")
    bob = await harness.users.add_user("bob")
    harness.store.jobs[JOB_ID] = a_job(JOB_ID, procedure="jobs.whoami", user="alice")
    assert (await harness.call("system.jobStatus", JOB_ID)).status is Status.UNAUTHENTICATED
    status = await harness.ask("system.jobStatus", *signed("alice", alice), JOB_ID)
    assert isinstance(status, Success) and status.value["id"] == JOB_ID
    assert await harness.ask("system.jobStatus", *signed("bob", bob), JOB_ID) == Fault(-32009, "Unknown job")


async def test_credentials_in_metadata_are_verified(harness: Harness) -> None:
    """Credentials the frontend lifted into metadata identify the caller, and a replay is refused."""
    alice = await harness.users.add_user("alice")
    harness.store.jobs[JOB_ID] = a_job(JOB_ID, user="alice")
    nonce, timestamp, username, signature = signed("alice", alice)
    received = {
        metadata.AUTH_FORM: "params",
        metadata.AUTH_USER: username,
        metadata.AUTH_NONCE: nonce,
        metadata.AUTH_TIMESTAMP: str(timestamp),
        metadata.AUTH_SIGNATURE: signature,
    }
    unfinished = await harness.ask("system.jobResult", JOB_ID, received=received)
    assert isinstance(unfinished, Fault) and unfinished.code == -32008
    replay = await harness.call("system.jobResult", JOB_ID, received=received)
    assert replay.status is Status.UNAUTHENTICATED
    assert [f.reason for f in harness.auth_failures] == [Reason.REPLAY]


async def test_caller_proven_earlier_in_the_chain_is_not_verified_twice(harness: Harness) -> None:
    """When authentication already set the caller (a pickle call), its credentials are not claimed again."""
    alice = await harness.users.add_user("alice")
    harness.store.jobs[JOB_ID] = a_job(JOB_ID, user="alice")
    nonce, timestamp, username, signature = signed("alice", alice)
    received = {
        metadata.AUTH_USER: username,
        metadata.AUTH_NONCE: nonce,
        metadata.AUTH_TIMESTAMP: str(timestamp),
        metadata.AUTH_SIGNATURE: signature,
    }
    status = await harness.ask("system.jobStatus", JOB_ID, received=received, caller="alice")
    assert isinstance(status, Success)
    assert harness.nonces.claims == []


async def test_bad_credentials_are_refused_even_for_anonymous_jobs(harness: Harness) -> None:
    """Credentials that do not verify are refused and counted, whoever owns the job."""
    await harness.users.add_user("alice")
    harness.store.jobs[JOB_ID] = a_job(JOB_ID)
    reply = await harness.call("system.jobStatus", *signed("alice", "wrong-key-0123456789"), JOB_ID)
    assert reply.status is Status.UNAUTHENTICATED
    assert [f.reason for f in harness.auth_failures] == [Reason.BAD_SIGNATURE]


async def test_scopes_are_checked_against_the_jobs_procedure(harness: Harness) -> None:
    """A user may follow a job of a procedure inside their scopes, and is forbidden one outside them."""
    carol = await harness.users.add_user("carol", scopes=["jobs.*"])
    dave = await harness.users.add_user("dave", scopes=["echo"])
    harness.store.jobs["carol-job"] = a_job("carol-job", user="carol")
    harness.store.jobs["dave-job"] = a_job("dave-job", user="dave")
    assert isinstance(await harness.ask("system.jobStatus", *signed("carol", carol), "carol-job"), Success)
    reply = await harness.call("system.jobStatus", *signed("dave", dave), "dave-job")
    assert reply.status is Status.PERMISSION_DENIED


async def test_store_down_during_a_query_is_unavailable(harness: Harness) -> None:
    """A query that cannot read the store fails with UNAVAILABLE, not a wrong 'unknown job'."""
    harness.store.down = True
    assert (await harness.call("system.jobStatus", JOB_ID)).status is Status.UNAVAILABLE


async def test_a_query_that_proves_its_caller_answers_for_that_caller(harness: Harness) -> None:
    """The reply names the call with the caller the query proved, so the access log shows who asked."""
    alice = await harness.users.add_user("alice")
    harness.store.jobs[JOB_ID] = a_job(JOB_ID, user="alice")
    reply = await harness.call("system.jobStatus", *signed("alice", alice), JOB_ID)
    assert reply.status is Status.OK
    assert reply.answered is not None and reply.answered.caller == "alice"
