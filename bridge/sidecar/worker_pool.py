"""The sidecar's connections to workers: bytes-level Invoke, and catalogue refresh.

Every `refresh_seconds` each worker is asked for `ListProcedures`; one that answers is (re)entered
in the catalogue, one that does not is taken out of routing until it answers again. A call that
finds its worker unreachable takes it out at once. No grpc here: `bridge.rpc.worker_connection` is
the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence

from bridge import metadata
from bridge.errors import Status
from bridge.rpc.worker_connection import WorkerConnection
from bridge.settings import TlsFiles
from bridge.sidecar.catalogue import Catalogue

log = logging.getLogger("rpcbridge.sidecar")

# How long a worker has to answer ListProcedures before it leaves routing.
LIST_TIMEOUT = 1.0


class WorkerPool:
    """Workers known to the sidecar, their channels, and the catalogue they feed."""

    def __init__(
        self,
        catalogue: Catalogue,
        addresses: Iterable[str],
        secret: str = "",
        refresh_seconds: float = 2.0,
        tls: TlsFiles | None = None,
        stream: bool = True,
    ) -> None:
        self.catalogue = catalogue
        self._refresh_seconds = refresh_seconds
        proof = [(metadata.SIDECAR_PROOF, secret)] if secret else []
        self._connections = {address: WorkerConnection(address, proof, tls, stream) for address in addresses}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Ask every worker once, then keep refreshing in the background."""
        await self.refresh()
        self._task = asyncio.create_task(self._refresh_forever(), name="worker-refresh")

    async def refresh(self) -> None:
        """Ask every worker for its procedures and update the catalogue."""
        await asyncio.gather(*(self._refresh_one(c) for c in list(self._connections.values())))

    async def _refresh_one(self, connection: WorkerConnection) -> None:
        described = await connection.list_procedures(LIST_TIMEOUT)
        if isinstance(described, tuple):
            if self.catalogue.drop(connection.address):
                log.warning("worker %s left routing: %s", connection.address, described[0].name)
            return
        if self.catalogue.update(connection.address, described.procedures, described.hooks):
            log.info(
                "worker %s serves %d procedures, %d hooks",
                connection.address,
                len(described.procedures),
                len(described.hooks),
            )

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.refresh()
            except Exception:  # the loop must outlive any one bad answer
                log.exception("catalogue refresh failed")

    async def invoke(
        self, address: str, request: bytes, extra: Sequence[tuple[str, str]], deadline: float | None
    ) -> bytes | tuple[Status, str]:
        """Send serialized InvokeRequest bytes to one worker; bytes back, or the failure status.

        Args:
            deadline: seconds the worker has, passed on as the gRPC deadline (None: no deadline).
        """
        answer = await self._connections[address].invoke(request, dict(extra), deadline)
        if isinstance(answer, bytes):
            return answer
        status, detail = answer
        if status is Status.UNAVAILABLE:
            if self.catalogue.drop(address):
                log.warning("worker %s left routing: unreachable during a call", address)
            detail = "worker unreachable"
        return status, detail

    async def aclose(self) -> None:
        """Stop refreshing and close every channel."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*(c.aclose() for c in self._connections.values()))
