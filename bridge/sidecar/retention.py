"""Keeps the call log within `log_retention_days` and events (with their delivery logs) within
`event_retention_days`: purges old records at start and every hour."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bridge.store.interfaces import StoreError

log = logging.getLogger("rpcbridge.sidecar")

PURGE_INTERVAL_SECONDS = 3600.0


class Purgeable(Protocol):
    """A store that deletes what is older than a number of days (`CallLogStore`, `EventStore`)."""

    async def purge_older_than(self, days: int) -> int:
        """Delete records older than `days`; return how many."""
        ...


async def purge_forever(
    store: Purgeable, days: int, interval: float = PURGE_INTERVAL_SECONDS, what: str = "call log"
) -> None:
    """Delete records older than `days`, now and every `interval` seconds, until cancelled."""
    while True:
        try:
            removed = await store.purge_older_than(days)
        except StoreError as exc:  # the store may be down for a while; try again next round
            log.warning("%s purge failed: %s", what, exc)
        else:
            if removed:
                log.info("%s: purged %d records older than %d days", what, removed, days)
        await asyncio.sleep(interval)
