"""`GET /healthz` (the process is alive) and `GET /readyz` (it can serve calls), for orchestrators.

Readiness asks the invoker (catalogue loaded, sidecar reachable), and is false before the
application has started up and once its clean-up has begun.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from bridge.calls import Invoker

logger = logging.getLogger("rpcbridge.frontend")

# A readiness probe that hangs is worse than one that says no: orchestrators time probes out
# (Kubernetes after 1 s by default) and learn nothing from it.
READY_CHECK_SECONDS: Final = 1.0


class HealthEndpoints:
    """The liveness and readiness handlers, and the cleanup context that bounds readiness."""

    def __init__(self, invoker: Invoker) -> None:
        self.invoker = invoker
        self.serving = False

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """Cleanup context: ready only between start-up and the start of clean-up."""
        del app  # the state lives on this object, reached through the app's HEALTH key
        self.serving = True
        try:
            yield
        finally:
            self.serving = False

    async def alive(self, request: web.Request) -> web.Response:
        """GET /healthz: 200 "ok" whenever the event loop can answer at all."""
        del request  # the answer does not depend on the request
        return web.Response(text="ok")

    async def ready(self, request: web.Request) -> web.Response:
        """GET /readyz: 200 when the invoker is ready, 503 when not, failing or slow to say."""
        del request  # the answer does not depend on the request
        if self.serving and await self._invoker_ready():
            return web.Response(text="ready")
        return web.Response(status=503, text="not ready")

    async def _invoker_ready(self) -> bool:
        """Ask the invoker, counting an exception or a slow answer as "no"."""
        try:
            async with asyncio.timeout(READY_CHECK_SECONDS):
                return await self.invoker.ready()
        except Exception:
            logger.warning("readiness check failed", exc_info=True)
            return False
