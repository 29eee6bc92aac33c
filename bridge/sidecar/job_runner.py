"""`JobRunner`: runs accepted background jobs on workers, a bounded number at a time, at least once.

Pure of transport: jobs go to workers through the sidecar's terminal forward (a `Proceed`), never
through the interceptor chain, so a worker sees an ordinary call and nothing is accepted twice.
Outcomes: a reply from the worker (result or fault) finishes the job; a worker that cannot be
reached, or a call cut off in transport (a worker killed mid-call), puts it back in the queue with
backoff; any other failure status fails it (docs/jobs.md). While a job runs, its claim's lease is
renewed every few seconds, so the jobs of a sidecar that died are claimed again within a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bridge import metadata
from bridge.errors import Fault, Status
from bridge.faults import INTERNAL_ERROR, fault, fault_for_status
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply
from bridge.sidecar.jobs import JobCodec
from bridge.store.interfaces import JobStore, StoreError
from bridge.store.records import Job, JobFault

log = logging.getLogger("rpcbridge.sidecar.jobs")

# No worker could take the call (down, restarting, not yet in the catalogue, shutting down, or
# overloaded), or the call was cut off on its way: the job did not run to an answer, so it waits
# and runs again. A worker killed mid-call ends the calls on its stream with whatever status the
# transport saw first: UNAVAILABLE, or INTERNAL / UNKNOWN ("RST_STREAM", "Stream removed").
# Application faults, crashes in a procedure included, come back inside an OK reply and stay final.
RETRYABLE: Final = frozenset(
    {
        Status.UNAVAILABLE,
        Status.NOT_FOUND,
        Status.CANCELLED,
        Status.RESOURCE_EXHAUSTED,
        Status.ABORTED,
        Status.INTERNAL,
        Status.UNKNOWN,
    }
)
FIRST_RETRY_SECONDS: Final = 1.0
JOB_PEER: Final = "job-runner"


@dataclass(frozen=True, slots=True)
class Finished:
    """A run that came to an answer: the response to keep, and its fault when it failed."""

    response: bytes
    fault: JobFault | None


@dataclass(frozen=True, slots=True)
class Retry:
    """A run that never reached a worker's answer; the job goes back in the queue."""

    status: Status
    detail: str


def retry_delay(attempts: int, longest: float) -> float:
    """Exponential backoff from one second, capped at `longest`, with jitter so sidecars spread out."""
    base = min(longest, FIRST_RETRY_SECONDS * float(2 ** min(max(attempts - 1, 0), 30)))
    return base * random.uniform(0.75, 1.0)


class JobRunner:
    """Claims runnable jobs from the store and runs them on workers until closed.

    Args:
        forward: the sidecar's terminal handler (route to a worker and invoke), not the chain.
        concurrency: jobs running at once in this sidecar.
        timeout: seconds one run may take (the worker call's deadline).
        retry_max_seconds: the longest wait before a job that found no worker runs again.
        poll_seconds: how often the store is asked for jobs other sidecars accepted or that are due.
        lease_seconds: how long a claim holds without renewal; after that another runner may
            take the job (its runner is presumed dead).
        heartbeat_seconds: how often the leases of running jobs are renewed (below `lease_seconds`).
    """

    def __init__(
        self,
        store: JobStore,
        forward: Proceed,
        codec: JobCodec,
        *,
        concurrency: int = 4,
        timeout: float = 300.0,
        retry_max_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        lease_seconds: float = 10.0,
        heartbeat_seconds: float = 3.0,
        runner_id: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 0 < heartbeat_seconds < lease_seconds:
            raise ValueError("heartbeat_seconds must be positive and below lease_seconds")
        self.runner_id = runner_id or uuid.uuid4().hex
        self._store = store
        self._forward = forward
        self._codec = codec
        self._concurrency = concurrency
        self._timeout = timeout
        self._retry_max = retry_max_seconds
        self._poll = poll_seconds
        self._lease = lease_seconds
        self._heartbeat = heartbeat_seconds
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], str] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> int:
        """Jobs this runner is running now."""
        return len(self._running)

    def wake(self) -> None:
        """Look for jobs now rather than at the next poll (a job was just accepted)."""
        self._wake.set()

    async def start(self) -> None:
        """Start claiming and running jobs in the background (once)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name="job-runner"),
                asyncio.create_task(self._renew_forever(), name="job-heartbeat"),
            ]

    async def aclose(self) -> None:
        """Stop: cancel runs in flight, and put their jobs back in the queue for the next start."""
        tasks: list[asyncio.Task[None]] = [*self._running, *self._tasks]
        for task in tasks:
            task.cancel()
        await _settle(tasks)
        try:
            released = await self._store.release(self.runner_id)
        except StoreError as exc:  # the leases run out instead, and another start takes the jobs
            log.warning("jobs: could not put running jobs back in the queue: %s", exc)
            return
        if released:
            log.info("jobs: %d unfinished jobs put back in the queue", released)

    async def _run(self) -> None:
        while True:
            await self.claim_and_start()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            await self.renew_leases()

    async def renew_leases(self) -> int:
        """Extend the claims of the jobs running here by a lease from now; return how many."""
        held = set(self._running.values())
        if not held:
            return 0
        try:
            return await self._store.renew(self.runner_id, held, self._lease)
        except StoreError as exc:  # the next beat tries again; a lapse only means a second run
            log.warning("jobs: cannot renew the leases of %d running jobs: %s", len(held), exc)
            return 0

    async def claim_and_start(self) -> int:
        """Claim as many jobs as there are free slots and start running them; return how many."""
        free = self._concurrency - len(self._running)
        if free < 1:
            return 0
        try:
            jobs = await self._store.claim(self.runner_id, free, self._lease)
        except StoreError as exc:  # the store may be down for a while; the next poll tries again
            log.warning("jobs: cannot claim jobs: %s", exc)
            return 0
        for job in jobs:
            task = asyncio.create_task(self.run_job(job), name=f"job-{job.id}")
            self._running[task] = job.id
            task.add_done_callback(self._done)
        return len(jobs)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot is free

    async def run_job(self, job: Job) -> None:
        """Run one claimed job on a worker and record how it ended, or put it back to run again."""
        request_id = job.request_id or job.id
        call = ProxiedCall(
            procedure=job.procedure,
            api_version=job.api_version,
            protocol=job.protocol,
            request=job.request,
            metadata={metadata.REQUEST_ID: request_id},
            peer=JOB_PEER,
            request_id=request_id,
            timeout=self._timeout,
            caller=job.user or None,
            # The job id reaches the procedure (`bridge.call_context()`) as an idempotency key.
            forward_metadata={**job.forward_metadata, metadata.JOB_ID: job.id},
        )
        start = time.perf_counter()
        try:
            reply = await self._forward(call)
        except Exception:  # the runner must outlive any one job; the job runs again later
            log.exception("job id=%s procedure=%s: unexpected error", job.id, job.procedure)
            reply = ProxyReply.failure(Status.UNAVAILABLE, "unexpected error in the sidecar")
        duration_ms = (time.perf_counter() - start) * 1000
        ending = self.classify(reply)
        try:
            if isinstance(ending, Retry):
                await self._retry(job, ending, duration_ms)
            else:
                await self._finish(job, ending, duration_ms)
        except StoreError as exc:
            log.warning(
                "job id=%s: cannot record its outcome (%s); it runs again when its claim lapses", job.id, exc
            )

    def classify(self, reply: ProxyReply) -> Finished | Retry:
        """What a worker's reply means for the job."""
        if reply.status in RETRYABLE:
            return Retry(reply.status, reply.details)
        if reply.status is not Status.OK:
            failure = fault_for_status(reply.status, reply.details)
            return Finished(self._codec.encode_outcome(failure), JobFault(failure.code, failure.message))
        try:
            outcome = self._codec.decode_outcome(reply.response)
        except ValueError:
            log.error("a worker answered a job with a malformed InvokeResponse")
            failure = fault(INTERNAL_ERROR)
            return Finished(self._codec.encode_outcome(failure), JobFault(failure.code, failure.message))
        if isinstance(outcome, Fault):
            return Finished(reply.response, JobFault(outcome.code, outcome.message))
        return Finished(reply.response, None)

    async def _finish(self, job: Job, ending: Finished, duration_ms: float) -> None:
        recorded = await self._store.finish(job.id, self.runner_id, ending.response, ending.fault)
        if not recorded:
            log.warning(
                "job id=%s: finished after its claim lapsed; the outcome of its other run stands", job.id
            )
        elif ending.fault is None:
            log.info(
                "job id=%s procedure=%s caller=%s attempt=%d outcome=succeeded duration_ms=%.2f "
                "request_id=%s",
                job.id,
                job.procedure,
                job.user or "-",
                job.attempts,
                duration_ms,
                job.request_id,
            )
        else:
            # The worker logged the traceback of a crash; this line ties it to the job id.
            log.warning(
                "job id=%s procedure=%s caller=%s attempt=%d outcome=failed code=%d message=%s "
                "duration_ms=%.2f request_id=%s",
                job.id,
                job.procedure,
                job.user or "-",
                job.attempts,
                ending.fault.code,
                ending.fault.message,
                duration_ms,
                job.request_id,
            )

    async def _retry(self, job: Job, ending: Retry, duration_ms: float) -> None:
        delay = retry_delay(job.attempts, self._retry_max)
        await self._store.retry(job.id, self.runner_id, delay)
        log.warning(
            "job id=%s procedure=%s attempt=%d outcome=retry status=%s detail=%s retry_in_s=%.1f "
            "duration_ms=%.2f request_id=%s",
            job.id,
            job.procedure,
            job.attempts,
            ending.status.name,
            ending.detail or "-",
            delay,
            duration_ms,
            job.request_id,
        )


async def _settle(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Wait for cancelled tasks to end, whatever they end with."""
    pending = list(tasks)
    if pending:
        await asyncio.wait(pending)
