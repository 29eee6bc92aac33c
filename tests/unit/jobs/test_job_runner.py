"""The job runner: how each kind of reply ends a job, bounded concurrency, stopping, and retention."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge import metadata
from bridge.calls import Success
from bridge.errors import Fault, Status
from bridge.sidecar.interception import ProxyReply
from bridge.sidecar.job_retention import keep_jobs_within
from bridge.sidecar.job_runner import JobRunner, retry_delay
from bridge.sidecar.jobs import JOB_CODEC
from bridge.store.records import JobFault
from tests.unit.jobs.fakes import FakeJobStore, ScriptedForward, a_job

RUNNER = "runner-1"
SUCCESS = JOB_CODEC.encode_outcome(Success(5))
APPLICATION_FAULT = JOB_CODEC.encode_outcome(Fault(7, "no luck", {"detail": 1}))


def make_runner(store: FakeJobStore, forward: ScriptedForward, concurrency: int = 4) -> JobRunner:
    return JobRunner(
        store,
        forward,
        JOB_CODEC,
        concurrency=concurrency,
        timeout=12.5,
        retry_max_seconds=8.0,
        runner_id=RUNNER,
    )


async def run(reply: ProxyReply | BaseException, store: FakeJobStore | None = None) -> FakeJobStore:
    """Run one claimed job whose worker gives `reply`; the store afterwards."""
    store = store or FakeJobStore()
    job = a_job(state="running", attempts=1, user="alice", forward_metadata={"x-extra": "1"})
    store.jobs[job.id] = job
    await make_runner(store, ScriptedForward([reply])).run_job(job)
    return store


async def test_run_reaches_the_worker_as_an_ordinary_call_from_the_user() -> None:
    """The forward gets the stored request, the job's user as caller, the job timeout and metadata."""
    forward = ScriptedForward([ProxyReply(SUCCESS)])
    job = a_job(state="running", attempts=1, user="alice", forward_metadata={"x-extra": "1"})
    await make_runner(FakeJobStore(), forward).run_job(job)
    [call] = forward.calls
    assert (call.procedure, call.request, call.caller, call.timeout) == (
        job.procedure,
        job.request,
        "alice",
        12.5,
    )
    assert call.metadata == {metadata.REQUEST_ID: "req-1"}
    # The job id travels to the worker (and the procedure) as an idempotency key.
    assert call.forward_metadata == {"x-extra": "1", metadata.JOB_ID: job.id}


async def test_success_keeps_the_workers_response() -> None:
    """A result finishes the job as succeeded with the worker's bytes, untouched."""
    store = await run(ProxyReply(SUCCESS))
    assert store.finished == [("f" * 32, RUNNER, SUCCESS, None)]


async def test_application_fault_fails_the_job_with_its_code_and_message() -> None:
    """A fault in the reply fails the job; the response (with its data) is kept as the worker sent it."""
    store = await run(ProxyReply(APPLICATION_FAULT))
    assert store.finished == [("f" * 32, RUNNER, APPLICATION_FAULT, JobFault(7, "no luck"))]


@pytest.mark.parametrize(
    "status",
    [
        Status.UNAVAILABLE,
        Status.NOT_FOUND,
        Status.CANCELLED,
        Status.RESOURCE_EXHAUSTED,
        Status.INTERNAL,
        Status.UNKNOWN,
    ],
)
async def test_no_worker_answer_puts_the_job_back(status: Status) -> None:
    """Worker down, not in the catalogue, stopping, overloaded, or killed mid-call (the transport's
    INTERNAL / UNKNOWN): the job is retried later, not failed."""
    store = await run(ProxyReply.failure(status, "worker unreachable"))
    assert store.finished == []
    [(job_id, runner, delay)] = store.retried
    assert (job_id, runner) == ("f" * 32, RUNNER)
    assert 0 < delay <= 8.0


async def test_unexpected_error_in_the_forward_puts_the_job_back() -> None:
    """An exception on the way to the worker does not lose the job or stop the runner."""
    store = await run(RuntimeError("boom"))
    assert store.finished == []
    assert len(store.retried) == 1


async def test_deadline_fails_the_job_as_a_bridge_fault() -> None:
    """A run that outlives job_timeout fails with -32003, as the status table maps it."""
    store = await run(ProxyReply.failure(Status.DEADLINE_EXCEEDED, "deadline"))
    [(_, _, response, fault)] = store.finished
    assert fault == JobFault(-32003, "Deadline exceeded")
    assert JOB_CODEC.decode_outcome(response) == Fault(-32003, "Deadline exceeded", "deadline")


async def test_malformed_worker_reply_fails_the_job_as_internal_error() -> None:
    """Bytes that are not an InvokeResponse fail the job with -32603, never crash the runner."""
    store = await run(ProxyReply(b"\xff\xff\xff"))
    [(_, _, _, fault)] = store.finished
    assert fault == JobFault(-32603, "Internal error")


async def test_failed_job_is_logged_with_its_id(caplog: pytest.LogCaptureFixture) -> None:
    """The sidecar writes one line naming the failed job, its procedure and its fault."""
    with caplog.at_level(logging.INFO, logger="rpcbridge.sidecar.jobs"):
        await run(ProxyReply(APPLICATION_FAULT))
    [line] = [r.getMessage() for r in caplog.records if "outcome=failed" in r.getMessage()]
    assert "id=" + "f" * 32 in line and "procedure=jobs.slow_add" in line and "code=7" in line


async def test_lost_claim_or_store_outage_does_not_raise() -> None:
    """Finishing after the claim lapsed, or with the store down, is logged; the runner carries on."""
    lapsed = FakeJobStore(holds_claims=False)
    await run(ProxyReply(SUCCESS), lapsed)
    assert len(lapsed.finished) == 1
    down = FakeJobStore(down=True)
    await make_runner(down, ScriptedForward([ProxyReply(SUCCESS)])).run_job(a_job(state="running"))
    assert down.finished == []


async def test_concurrency_is_bounded_and_stop_requeues_runs_in_flight() -> None:
    """With two slots only two jobs run; stopping cancels them and puts them back in the queue."""
    store = FakeJobStore()
    for index in range(5):
        await store.add(a_job(f"job{index}"))
    forward = ScriptedForward([ProxyReply(SUCCESS)], gate=asyncio.Event())
    runner = make_runner(store, forward, concurrency=2)
    assert await runner.claim_and_start() == 2
    assert await runner.claim_and_start() == 0
    assert runner.running == 2
    await runner.aclose()
    assert store.released == [RUNNER]
    assert sorted(j.state for j in store.jobs.values()) == ["queued"] * 5
    assert store.finished == []


async def test_heartbeat_renews_only_the_jobs_running_here() -> None:
    """Leases of jobs in flight are extended by a lease from now; finished ones are not kept alive."""
    store = FakeJobStore()
    for index in range(3):
        await store.add(a_job(f"job{index}"))
    forward = ScriptedForward([ProxyReply(SUCCESS)], gate=asyncio.Event())
    runner = make_runner(store, forward, concurrency=2)
    assert await runner.renew_leases() == 0
    assert await runner.claim_and_start() == 2
    try:
        assert await runner.renew_leases() == 2
        assert store.renewed == [(RUNNER, frozenset({"job0", "job1"}), 10.0)]
    finally:
        await runner.aclose()
    store.down = True
    assert await runner.renew_leases() == 0  # nothing held any more, and no store asked


async def test_heartbeat_survives_a_store_outage(caplog: pytest.LogCaptureFixture) -> None:
    """A renewal the store refuses is logged and counted as none; the runner carries on."""
    store = FakeJobStore()
    await store.add(a_job("job0"))
    runner = make_runner(store, ScriptedForward([ProxyReply(SUCCESS)], gate=asyncio.Event()))
    await runner.claim_and_start()
    store.down = True
    try:
        with caplog.at_level(logging.WARNING, logger="rpcbridge.sidecar.jobs"):
            assert await runner.renew_leases() == 0
    finally:
        store.down = False
        await runner.aclose()
    assert any("cannot renew" in r.getMessage() for r in caplog.records)


def test_heartbeat_must_beat_within_the_lease() -> None:
    """A heartbeat no shorter than the lease would let claims lapse under a live runner."""
    with pytest.raises(ValueError, match="heartbeat"):
        JobRunner(FakeJobStore(), ScriptedForward(), JOB_CODEC, lease_seconds=3.0, heartbeat_seconds=3.0)


async def test_running_loop_takes_accepted_jobs_until_done() -> None:
    """Started, the runner picks up jobs as they are accepted and finishes them all."""
    store = FakeJobStore()
    runner = make_runner(store, ScriptedForward([ProxyReply(SUCCESS)]), concurrency=2)
    await runner.start()
    try:
        for index in range(5):
            await store.add(a_job(f"job{index}"))
            runner.wake()
        while len(store.finished) < 5:
            await store.changed.wait()
            store.changed.clear()
    finally:
        await runner.aclose()
    assert sorted(job_id for job_id, *_ in store.finished) == [f"job{index}" for index in range(5)]


def test_retry_delay_grows_and_is_capped() -> None:
    """Backoff doubles from about a second and never exceeds the configured longest wait."""
    delays = [retry_delay(attempts, 8.0) for attempts in range(1, 12)]
    assert 0.75 <= delays[0] <= 1.0
    assert all(delay <= 8.0 for delay in delays)
    assert delays[-1] >= 6.0


async def test_retention_expires_with_worker_unavailable() -> None:
    """A retention round fails stale queued jobs with -32004 and purges old ones."""
    store = FakeJobStore()
    await keep_jobs_within(store, 7, JOB_CODEC)
    [(_, days, response, fault)] = store.finished
    assert days == "7 days"
    assert fault == JobFault(-32004, "Worker unavailable")
    outcome = JOB_CODEC.decode_outcome(response)
    assert isinstance(outcome, Fault) and "7 days" in str(outcome.data)
