"""The sidecar's readiness: its stores answer and its catalogue is loaded.

One check feeds both the admin site's `GET /readyz` and the gRPC health service, so an orchestrator
and a frontend see the same verdict. No grpc and no aiohttp here: both ends receive `problems`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Final

from bridge.sidecar.catalogue import Catalogue
from bridge.store.database import Database
from bridge.store.interfaces import NonceStore

log = logging.getLogger("rpcbridge.sidecar")

# A store that takes longer than this to answer counts as unreachable (probes time out at 1 s).
CHECK_SECONDS: Final = 0.8
# How often the gRPC health status is brought up to date.
WATCH_SECONDS: Final = 1.0
# Probe nonces live under a name no user can have (usernames are non-empty).
_PROBE_USER: Final = ""


class SidecarReadiness:
    """Says what keeps the sidecar from serving calls, if anything."""

    def __init__(self, catalogue: Catalogue, database: Database, nonces: NonceStore) -> None:
        self._catalogue = catalogue
        self._database = database
        self._nonces = nonces

    async def problems(self) -> list[str]:
        """Why the sidecar is not ready; empty when it is."""
        found = [] if self._catalogue.loaded else ["no worker has described its procedures"]
        checks = {"database": self._ping_database(), "nonce store": self._ping_nonces()}
        for name, check in checks.items():
            try:
                async with asyncio.timeout(CHECK_SECONDS):
                    await check
            except Exception as exc:  # any failure of a store means "not ready", never a crash
                found.append(f"{name} unreachable: {type(exc).__name__}")
        return found

    async def _ping_database(self) -> None:
        async with self._database.session() as session:
            await session.fetchrow("SELECT 1")

    async def _ping_nonces(self) -> None:
        # A one-second claim goes the same way as every authenticated call's nonce.
        await self._nonces.claim(_PROBE_USER, secrets.token_hex(8), 1, scope="readyz")


async def watch_readiness(
    problems: Callable[[], Awaitable[list[str]]], report: Callable[[bool], Awaitable[None]]
) -> None:
    """Forever: check readiness and `report` it when it changes, logging why it went away."""
    serving: bool | None = None
    while True:
        found = await problems()
        if (not found) != serving:
            serving = not found
            await report(serving)
            if found:
                log.warning("sidecar not ready: %s", "; ".join(found))
            else:
                log.info("sidecar ready")
        await asyncio.sleep(WATCH_SECONDS)
