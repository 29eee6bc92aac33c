"""In-memory fakes for the job interceptor and runner: a job store, a scripted forward, request bytes."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.calls import Call
from bridge.rpc.values import call_to_request
from bridge.sidecar.interception import ProxiedCall, ProxyReply
from bridge.store.interfaces import StoreUnavailable
from bridge.store.records import Job, JobFault

T0 = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)


def request_bytes(procedure: str, *params: Any, named: dict[str, Any] | None = None) -> bytes:
    """A serialized InvokeRequest, as the sidecar receives it."""
    return call_to_request(Call(procedure, tuple(params), named)).SerializeToString()


def a_job(job_id: str = "f" * 32, **changes: Any) -> Job:
    """A queued job of jobs.slow_add(2, 3), accepted at T0 by nobody in particular."""
    fields: dict[str, Any] = {
        "id": job_id,
        "procedure": "jobs.slow_add",
        "request": request_bytes("jobs.slow_add", 2, 3),
        "created_at": T0,
        "request_id": "req-1",
    }
    fields.update(changes)
    return Job(**fields)


@dataclass
class FakeJobStore:
    """Jobs in a dict, with every state change recorded; `down` makes each method fail like a database."""

    jobs: dict[str, Job] = field(default_factory=dict)
    finished: list[tuple[str, str, bytes, JobFault | None]] = field(default_factory=list)
    retried: list[tuple[str, str, float]] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    renewed: list[tuple[str, frozenset[str], float]] = field(default_factory=list)
    down: bool = False
    holds_claims: bool = True
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a job is finished."""

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("database is down")

    async def add(self, job: Job) -> None:
        self._check()
        self.jobs[job.id] = job

    async def get(self, job_id: str) -> Job | None:
        self._check()
        return self.jobs.get(job_id)

    async def claim(
        self, runner: str, limit: int, lease_seconds: float, now: datetime.datetime | None = None
    ) -> list[Job]:
        self._check()
        queued = sorted((j for j in self.jobs.values() if j.state == "queued"), key=lambda j: j.created_at)
        claimed = [
            dataclasses.replace(j, state="running", attempts=j.attempts + 1, started_at=now or T0)
            for j in queued[:limit]
        ]
        self.jobs.update({j.id: j for j in claimed})
        return claimed

    async def finish(
        self,
        job_id: str,
        runner: str,
        response: bytes,
        fault: JobFault | None = None,
        now: datetime.datetime | None = None,
    ) -> bool:
        self._check()
        self.finished.append((job_id, runner, response, fault))
        self.changed.set()
        if job_id in self.jobs:
            state = "succeeded" if fault is None else "failed"
            self.jobs[job_id] = dataclasses.replace(self.jobs[job_id], state=state, response=response)
        return self.holds_claims

    async def retry(
        self, job_id: str, runner: str, delay: float, now: datetime.datetime | None = None
    ) -> bool:
        self._check()
        self.retried.append((job_id, runner, delay))
        if job_id in self.jobs:
            self.jobs[job_id] = dataclasses.replace(self.jobs[job_id], state="queued")
        return self.holds_claims

    async def renew(
        self,
        runner: str,
        job_ids: Collection[str],
        lease_seconds: float,
        now: datetime.datetime | None = None,
    ) -> int:
        self._check()
        self.renewed.append((runner, frozenset(job_ids), lease_seconds))
        return len(job_ids)

    async def release(self, runner: str, now: datetime.datetime | None = None) -> int:
        self._check()
        self.released.append(runner)
        running = [j for j in self.jobs.values() if j.state == "running"]
        self.jobs.update({j.id: dataclasses.replace(j, state="queued") for j in running})
        return len(running)

    async def expire_queued(
        self, days: float, response: bytes, fault: JobFault, now: datetime.datetime | None = None
    ) -> int:
        self._check()
        self.finished.append(("expired", f"{days} days", response, fault))
        return 0

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        self._check()
        return 0


@dataclass
class ScriptedForward:
    """The sidecar's terminal forward: records each call and answers from a script (or waits on a gate)."""

    replies: Sequence[ProxyReply | BaseException] = ()
    gate: asyncio.Event | None = None
    calls: list[ProxiedCall] = field(default_factory=list)

    async def __call__(self, call: ProxiedCall) -> ProxyReply:
        self.calls.append(call)
        if self.gate is not None:
            await self.gate.wait()
        answer = self.replies[min(len(self.calls), len(self.replies)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer
