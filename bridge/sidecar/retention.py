"""Keeps the call log within `log_retention_days`: purges old records at start and every hour."""

from __future__ import annotations

import asyncio
import logging

from bridge.store.interfaces import CallLogStore, StoreError

log = logging.getLogger("rpcbridge.sidecar")

PURGE_INTERVAL_SECONDS = 3600.0


async def purge_forever(store: CallLogStore, days: int, interval: float = PURGE_INTERVAL_SECONDS) -> None:
    """Delete records older than `days`, now and every `interval` seconds, until cancelled."""
    while True:
        try:
            removed = await store.purge_older_than(days)
        except StoreError as exc:  # the store may be down for a while; try again next round
            log.warning("call log purge failed: %s", exc)
        else:
            if removed:
                log.info("call log: purged %d records older than %d days", removed, days)
        await asyncio.sleep(interval)
