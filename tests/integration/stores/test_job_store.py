"""The job and event stores on SQLite and PostgreSQL: round trips, claims, leases, job events, retention."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from bridge.events.model import JOB_FAILED, JOB_SUCCEEDED, Event
from bridge.store.database import Database
from bridge.store.factory import open_database
from bridge.store.records import Job, JobFault
from bridge.store.sql_event_store import SqlEventStore
from bridge.store.sql_job_stores import SqlJobStore

T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
LEASE = 60.0


def later(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def job(job_id: str, seconds: float = 0, **changes: object) -> Job:
    """A queued job accepted `seconds` after T0."""
    fields: dict[str, object] = {
        "id": job_id,
        "procedure": "jobs.slow_add",
        "request": b"\x0a\x0djobs.slow_add\x12\x02\x18\x02",
        "created_at": later(seconds),
        "user": "alice",
        "api_version": 2,
        "protocol": "jsonrpc",
        "request_id": f"req-{job_id}",
        "forward_metadata": {"x-extra": "1"},
    }
    fields.update(changes)
    return Job(**fields)  # type: ignore[arg-type]


@pytest.fixture
def events(db: Database) -> SqlEventStore:
    return SqlEventStore(db)


@pytest.fixture
def jobs(db: Database, events: SqlEventStore) -> SqlJobStore:
    return SqlJobStore(db, events)


async def test_job_round_trips_exactly(jobs: SqlJobStore) -> None:
    """Every field of an accepted job, bytes and microseconds included, reads back as written."""
    accepted = job("a" * 32)
    await jobs.add(accepted)
    assert await jobs.get("a" * 32) == accepted
    assert await jobs.get("b" * 32) is None


async def test_claim_takes_due_jobs_oldest_first_once(jobs: SqlJobStore) -> None:
    """Claims go oldest first, up to the limit, mark the jobs running, and never hand a job out twice."""
    for index in range(3):
        await jobs.add(job(f"job{index}", seconds=index))
    first = await jobs.claim("runner-1", 2, LEASE, now=later(10))
    assert [j.id for j in first] == ["job0", "job1"]
    assert all(j.state == "running" and j.attempts == 1 and j.started_at == later(10) for j in first)
    assert [j.id for j in await jobs.claim("runner-2", 5, LEASE, now=later(10))] == ["job2"]
    assert await jobs.claim("runner-2", 5, LEASE, now=later(11)) == []


async def test_lapsed_lease_is_claimed_again(jobs: SqlJobStore) -> None:
    """A running job whose runner died is claimed by another once its lease has run out."""
    await jobs.add(job("job0"))
    [claimed] = await jobs.claim("dead-runner", 1, LEASE, now=later(1))
    assert await jobs.claim("runner-2", 1, LEASE, now=later(1 + LEASE - 1)) == []
    [again] = await jobs.claim("runner-2", 1, LEASE, now=later(2 + LEASE))
    assert (again.id, again.attempts) == (claimed.id, 2)
    assert not await jobs.finish("job0", "dead-runner", b"late", now=later(3 + LEASE))
    assert await jobs.finish("job0", "runner-2", b"answer", now=later(3 + LEASE))


async def test_renewed_lease_keeps_the_claim_and_only_for_its_holder(jobs: SqlJobStore) -> None:
    """A heartbeat moves the lease on, so a live runner keeps its job; a former holder renews nothing."""
    await jobs.add(job("job0"))
    await jobs.add(job("job1", seconds=1))
    await jobs.claim("runner-1", 2, LEASE, now=later(2))
    assert await jobs.renew("runner-1", {"job0"}, LEASE, now=later(LEASE)) == 1
    [lapsed] = await jobs.claim("runner-2", 2, LEASE, now=later(LEASE + 3))
    assert lapsed.id == "job1"  # not renewed: its lease ran out
    assert await jobs.renew("runner-1", {"job0", "job1"}, LEASE, now=later(LEASE + 4)) == 1
    assert await jobs.renew("runner-1", set(), LEASE) == 0
    assert await jobs.finish("job0", "runner-1", b"answer", now=later(2 * LEASE))


async def test_success_keeps_the_response(jobs: SqlJobStore, events: SqlEventStore) -> None:
    """A finished job is succeeded, with its response and finish time, and a job.succeeded event."""
    await jobs.add(job("job0"))
    await jobs.claim("runner-1", 1, LEASE, now=later(1))
    assert await jobs.finish("job0", "runner-1", b"\x0a\x02\x18\x05", now=later(2))
    done = await jobs.get("job0")
    assert done is not None
    assert (done.state, done.response, done.finished_at, done.fault_code) == (
        "succeeded",
        b"\x0a\x02\x18\x05",
        later(2),
        None,
    )
    [event] = await events.list_since(0)
    assert (event.type, event.data, event.timestamp) == (
        JOB_SUCCEEDED,
        {"job": "job0", "procedure": "jobs.slow_add"},
        later(2),
    )
    assert not await jobs.finish("job0", "runner-1", b"again", now=later(3))


async def test_failure_writes_an_event_with_the_fault(jobs: SqlJobStore, events: SqlEventStore) -> None:
    """A failed job keeps its fault, and a job.failed event with code and message is written with it."""
    await jobs.add(job("job0"))
    await jobs.claim("runner-1", 1, LEASE, now=later(1))
    assert await jobs.finish("job0", "runner-1", b"fault", JobFault(-32603, "Internal error"), now=later(2))
    failed = await jobs.get("job0")
    assert failed is not None
    assert (failed.state, failed.fault_code, failed.fault_message, failed.response) == (
        "failed",
        -32603,
        "Internal error",
        b"fault",
    )
    [event] = await events.list_since(0)
    assert event == Event(
        id=event.id,
        type=JOB_FAILED,
        timestamp=later(2),
        data={"job": "job0", "procedure": "jobs.slow_add", "code": -32603, "message": "Internal error"},
        procedure="jobs.slow_add",
        request_id="req-job0",
        caller="alice",
        auth=True,
        offset=event.offset,
    )


async def test_retry_and_release_requeue(jobs: SqlJobStore) -> None:
    """A retried job waits out its delay; a released job (graceful stop) is due at once."""
    await jobs.add(job("job0"))
    await jobs.add(job("job1", seconds=1))
    await jobs.claim("runner-1", 2, LEASE, now=later(2))
    assert await jobs.retry("job0", "runner-1", 30, now=later(3))
    assert not await jobs.retry("job0", "runner-1", 30, now=later(3))
    assert await jobs.release("runner-1", now=later(3)) == 1
    assert [j.id for j in await jobs.claim("runner-2", 5, LEASE, now=later(4))] == ["job1"]
    assert [j.id for j in await jobs.claim("runner-2", 5, LEASE, now=later(34))] == ["job0"]


async def test_concurrent_claims_never_share_a_job(database_url: str, jobs: SqlJobStore) -> None:
    """Two sidecars on one database claiming at the same moment each get different jobs."""
    for index in range(20):
        await jobs.add(job(f"job{index:02}", seconds=index))
    other_db = await open_database(database_url)
    try:
        other = SqlJobStore(other_db, SqlEventStore(other_db))
        results = await asyncio.gather(
            *(
                store.claim(f"runner-{n}", 4, LEASE, now=later(60))
                for n in range(3)
                for store in (jobs, other)
            )
        )
    finally:
        await other_db.close()
    claimed = [j.id for batch in results for j in batch]
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 20


async def test_retention_expires_stale_queued_jobs_and_purges_old_finished_ones(
    jobs: SqlJobStore, events: SqlEventStore
) -> None:
    """Queued jobs past retention fail (with job.failed events); finished jobs past retention go."""
    day = 86400
    await jobs.add(job("done"))
    await jobs.add(job("stale", seconds=1))
    await jobs.add(job("fresh", seconds=9 * day))
    [claimed] = await jobs.claim("runner-1", 1, LEASE, now=later(2))
    assert claimed.id == "done"
    await jobs.finish("done", "runner-1", b"ok", now=later(3))
    assert await jobs.expire_queued(7, b"expired", JobFault(-32004, "expired"), now=later(10 * day)) == 1
    stale = await jobs.get("stale")
    assert stale is not None
    assert (stale.state, stale.fault_code, stale.response) == ("failed", -32004, b"expired")
    assert [(e.type, e.data["job"]) for e in await events.list_since(0)] == [
        (JOB_SUCCEEDED, "done"),
        (JOB_FAILED, "stale"),
    ]
    assert await jobs.purge_older_than(7, now=later(10 * day)) == 1
    assert await jobs.get("done") is None
    assert await jobs.get("stale") is not None
    assert await jobs.purge_older_than(0, now=later(11 * day)) == 1
    assert await events.purge_older_than(0, now=later(11 * day)) == 2
    assert await events.list_since(0) == []
    fresh = await jobs.get("fresh")
    assert fresh is not None and fresh.state == "queued"


async def test_events_come_back_in_offset_order_after_a_cursor(events: SqlEventStore) -> None:
    """list_since returns events after the cursor, in offset (commit) order, a page at a time."""
    committed = [
        e
        for n in range(5)
        for e in await events.commit([Event("worker.event", {"n": n}, timestamp=later(n))])
    ]
    offsets = [e.offset for e in committed]
    assert offsets == sorted(offsets) and None not in offsets
    page = await events.list_since(committed[1].offset or 0, limit=2)
    assert [e.data["n"] for e in page] == [2, 3]
    assert await events.list_since(committed[3].offset or 0) == [committed[4]]
    assert await events.get(committed[0].id) == committed[0]
    with pytest.raises(ValueError, match="limit"):
        await events.list_since(0, limit=0)


def test_jobs_validate_their_fields() -> None:
    """A job with a naive time or an unknown state cannot be made."""
    with pytest.raises(ValueError, match="timezone"):
        job("x", created_at=datetime.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="state"):
        job("x", state="paused")
