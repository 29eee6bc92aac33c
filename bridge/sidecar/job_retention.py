"""Keeps background jobs within `job_retention_days`, at start and every hour (docs/jobs.md).

A job still queued that long after it was accepted (no worker ever ran it) fails with -32004 and a
`job.failed` event; finished jobs older than that are deleted. Pure of transport.
"""

from __future__ import annotations

import asyncio
import logging

from bridge.faults import WORKER_UNAVAILABLE, fault
from bridge.sidecar.jobs import JobCodec
from bridge.sidecar.retention import PURGE_INTERVAL_SECONDS
from bridge.store.interfaces import JobStore, StoreError
from bridge.store.records import JobFault

log = logging.getLogger("rpcbridge.sidecar.jobs")


async def keep_jobs_within(store: JobStore, days: int, codec: JobCodec) -> None:
    """One round: expire jobs queued longer than `days`, then purge older finished jobs."""
    expired = fault(WORKER_UNAVAILABLE, data=f"the job was not run within {days} days of being accepted")
    response = codec.encode_outcome(expired)
    count = await store.expire_queued(days, response, JobFault(expired.code, expired.message))
    if count:
        log.warning("jobs: %d jobs failed, still queued after %d days", count, days)
    removed = await store.purge_older_than(days)
    if removed:
        log.info("jobs: purged %d jobs finished more than %d days ago", removed, days)


async def purge_jobs_forever(
    store: JobStore, days: int, codec: JobCodec, interval: float = PURGE_INTERVAL_SECONDS
) -> None:
    """Run `keep_jobs_within` now and every `interval` seconds, until cancelled."""
    while True:
        try:
            await keep_jobs_within(store, days, codec)
        except StoreError as exc:  # the store may be down for a while; try again next round
            log.warning("jobs: retention round failed: %s", exc)
        await asyncio.sleep(interval)
