"""Background jobs over any `Database` (SQLite or PostgreSQL): `jobs`, with their `job.*` events.

Imports the store seams only; never a driver. Every state change is one conditional UPDATE, so a
job is claimed by one runner at a time even with several sidecars on one PostgreSQL database: a
competing UPDATE waits for the row and then finds its condition no longer true.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Collection
from typing import Any, Final

from bridge.events.model import JOB_FAILED, JOB_SUCCEEDED, Event
from bridge.store.database import Database, Row, utc_now
from bridge.store.records import FAILED, SUCCEEDED, Job, JobFault
from bridge.store.sql_event_store import SqlEventStore

# The S608 exemptions below: SQL is assembled only from these constant column lists and numbered
# placeholders; every value travels as a bound parameter.
_JOB_COLUMNS: Final = (
    "id, procedure, request, username, state, api_version, protocol, request_id, forward_metadata,"
    " created_at, started_at, finished_at, attempts, response, fault_code, fault_message"
)
_CLAIMABLE: Final = "((state = 'queued' AND not_before <= $1) OR (state = 'running' AND lease_until < $1))"
# PostgreSQL: concurrent claimers skip rows another has just picked instead of all queueing for the
# same oldest ones. SQLite runs one write transaction at a time, so it needs (and has) no such clause.
_SKIP_TAKEN: Final = {"postgresql": " FOR UPDATE SKIP LOCKED", "sqlite": ""}


class SqlJobStore:
    """Background jobs in the `jobs` table; each one ends with a `job.succeeded` or `job.failed` event."""

    def __init__(
        self, db: Database, events: SqlEventStore, clock: Callable[[], datetime.datetime] = utc_now
    ) -> None:
        self._db = db
        self._events = events
        self._clock = clock

    def _time(self, raw: Any) -> datetime.datetime | None:
        return None if raw is None else self._db.decode_time(raw)

    def _job(self, row: Row) -> Job:
        created = self._db.decode_time(row["created_at"])
        return Job(
            id=row["id"],
            procedure=row["procedure"],
            request=bytes(row["request"]),
            created_at=created,
            state=row["state"],
            user=row["username"],
            api_version=int(row["api_version"]),
            protocol=row["protocol"],
            request_id=row["request_id"],
            forward_metadata=json.loads(row["forward_metadata"]),
            started_at=self._time(row["started_at"]),
            finished_at=self._time(row["finished_at"]),
            attempts=int(row["attempts"]),
            response=None if row["response"] is None else bytes(row["response"]),
            fault_code=None if row["fault_code"] is None else int(row["fault_code"]),
            fault_message=row["fault_message"],
        )

    async def add(self, job: Job) -> None:
        """Store a new job; it is committed when this returns."""
        encode = self._db.encode_time
        async with self._db.session() as session:
            await session.execute(
                f"INSERT INTO jobs ({_JOB_COLUMNS}, not_before) VALUES"  # noqa: S608
                " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $10)",
                job.id,
                job.procedure,
                job.request,
                job.user,
                job.state,
                job.api_version,
                job.protocol,
                job.request_id,
                json.dumps(dict(job.forward_metadata)),
                encode(job.created_at),
                None if job.started_at is None else encode(job.started_at),
                None if job.finished_at is None else encode(job.finished_at),
                job.attempts,
                job.response,
                job.fault_code,
                job.fault_message,
            )

    async def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        async with self._db.session() as session:
            row = await session.fetchrow(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = $1",  # noqa: S608
                job_id,
            )
        return None if row is None else self._job(row)

    async def claim(
        self, runner: str, limit: int, lease_seconds: float, now: datetime.datetime | None = None
    ) -> list[Job]:
        """Mark up to `limit` runnable jobs (queued and due, or running with a lapsed lease) as running."""
        if limit < 1:
            return []
        moment = now or self._clock()
        at = self._db.encode_time(moment)
        lease = self._db.encode_time(moment + datetime.timedelta(seconds=lease_seconds))
        # Most polls find nothing: a read first spares SQLite's write lock (which `rpcbridge users`
        # needs too) and PostgreSQL a transaction.
        async with self._db.session() as session:
            due = await session.fetchrow(f"SELECT 1 AS due FROM jobs WHERE {_CLAIMABLE} LIMIT 1", at)  # noqa: S608
        if due is None:
            return []
        claimed: list[Job] = []
        async with self._db.transaction() as session:
            candidates = await session.fetch(
                f"SELECT id FROM jobs WHERE {_CLAIMABLE} ORDER BY created_at, id LIMIT $2"  # noqa: S608
                f"{_SKIP_TAKEN[self._db.dialect]}",
                at,
                limit,
            )
            for candidate in candidates:
                # The condition again: another sidecar may have claimed the row since the SELECT.
                row = await session.fetchrow(
                    f"UPDATE jobs SET state = 'running', runner = $2, lease_until = $3,"  # noqa: S608
                    f" started_at = $1, attempts = attempts + 1 WHERE id = $4 AND {_CLAIMABLE}"
                    f" RETURNING {_JOB_COLUMNS}",
                    at,
                    runner,
                    lease,
                    candidate["id"],
                )
                if row is not None:
                    claimed.append(self._job(row))
        return claimed

    async def finish(
        self,
        job_id: str,
        runner: str,
        response: bytes,
        fault: JobFault | None = None,
        now: datetime.datetime | None = None,
    ) -> bool:
        """Record how a claimed job ended, with its `job.succeeded` or `job.failed` event."""
        moment = now or self._clock()
        async with self._db.transaction() as session:
            row = await session.fetchrow(
                "UPDATE jobs SET state = $3, finished_at = $4, response = $5, fault_code = $6,"
                " fault_message = $7, runner = NULL, lease_until = NULL"
                " WHERE id = $1 AND runner = $2 AND state = 'running' RETURNING procedure, username,"
                " request_id",
                job_id,
                runner,
                SUCCEEDED if fault is None else FAILED,
                self._db.encode_time(moment),
                response,
                None if fault is None else fault.code,
                None if fault is None else fault.message,
            )
            if row is None:
                return False
            written = await self._events.insert(session, [job_event(job_id, row, fault, moment)])
        await self._events.committed(*written)
        return True

    async def retry(
        self, job_id: str, runner: str, delay: float, now: datetime.datetime | None = None
    ) -> bool:
        """Put a claimed job back in the queue, runnable `delay` seconds from now."""
        due = (now or self._clock()) + datetime.timedelta(seconds=delay)
        async with self._db.session() as session:
            changed = await session.execute(
                "UPDATE jobs SET state = 'queued', not_before = $3, runner = NULL, lease_until = NULL"
                " WHERE id = $1 AND runner = $2 AND state = 'running'",
                job_id,
                runner,
                self._db.encode_time(due),
            )
        return changed == 1

    async def renew(
        self,
        runner: str,
        job_ids: Collection[str],
        lease_seconds: float,
        now: datetime.datetime | None = None,
    ) -> int:
        """Extend the leases of these jobs that `runner` still holds to `lease_seconds` from now; how many."""
        ids = sorted(job_ids)
        if not ids:
            return 0
        lease = (now or self._clock()) + datetime.timedelta(seconds=lease_seconds)
        placeholders = ", ".join(f"${index}" for index in range(3, len(ids) + 3))
        async with self._db.session() as session:
            return await session.execute(
                "UPDATE jobs SET lease_until = $2"  # noqa: S608 (placeholders only)
                f" WHERE runner = $1 AND state = 'running' AND id IN ({placeholders})",
                runner,
                self._db.encode_time(lease),
                *ids,
            )

    async def release(self, runner: str, now: datetime.datetime | None = None) -> int:
        """Put every job `runner` holds back in the queue, runnable at once (a graceful stop)."""
        async with self._db.session() as session:
            return await session.execute(
                "UPDATE jobs SET state = 'queued', not_before = $2, runner = NULL, lease_until = NULL"
                " WHERE runner = $1 AND state = 'running'",
                runner,
                self._db.encode_time(now or self._clock()),
            )

    async def expire_queued(
        self, days: float, response: bytes, fault: JobFault, now: datetime.datetime | None = None
    ) -> int:
        """Fail the jobs still queued `days` after they were accepted (with events); return how many."""
        moment = now or self._clock()
        cutoff = moment - datetime.timedelta(days=days)
        async with self._db.transaction() as session:
            rows = await session.fetch(
                "UPDATE jobs SET state = 'failed', finished_at = $2, response = $3, fault_code = $4,"
                " fault_message = $5 WHERE state = 'queued' AND created_at < $1"
                " RETURNING id, procedure, username, request_id",
                self._db.encode_time(cutoff),
                self._db.encode_time(moment),
                response,
                fault.code,
                fault.message,
            )
            events = [job_event(row["id"], row, fault, moment) for row in rows]
            written = await self._events.insert(session, events)
        await self._events.committed(*written)
        return len(rows)

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        """Delete jobs finished more than `days` before `now`; return how many."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        cutoff = self._db.encode_time((now or self._clock()) - datetime.timedelta(days=days))
        async with self._db.session() as session:
            return await session.execute("DELETE FROM jobs WHERE finished_at < $1", cutoff)


def job_event(job_id: str, row: Row, fault: JobFault | None, moment: datetime.datetime) -> Event:
    """The `job.succeeded` or `job.failed` event of a job (row: its procedure, username, request id).

    Data: `job` (the id) and `procedure`; a failure adds the fault's `code` and `message`.
    """
    data: dict[str, object] = {"job": job_id, "procedure": row["procedure"]}
    if fault is not None:
        data.update(code=fault.code, message=fault.message)
    return Event(
        type=JOB_SUCCEEDED if fault is None else JOB_FAILED,
        data=data,
        timestamp=moment,
        procedure=row["procedure"],
        request_id=row["request_id"] or None,
        caller=row["username"] or None,
        auth=True,  # a job's id is its capability: only authenticated subscribers hear of it
    )
