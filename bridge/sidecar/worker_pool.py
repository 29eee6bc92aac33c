"""The sidecar's connections to workers: bytes-level Invoke, and catalogue refresh.

Every `refresh_seconds` the worker names are resolved again (`worker_discovery`) and each worker
is asked for `ListProcedures`; one that answers is (re)entered in the catalogue, one that does not
is taken out of routing until it answers again. A call that finds its worker unreachable takes it
out at once. An address its name no longer resolves to leaves routing at once, and its connection
closes once its last call has ended. No grpc here: `bridge.rpc.worker_connection` is the transport.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Iterable, Sequence

from bridge import metadata
from bridge.errors import Status
from bridge.rpc.worker_connection import WorkerConnection
from bridge.settings import TlsFiles
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.worker_discovery import Resolver, WorkerDiscovery, resolve_host

log = logging.getLogger("rpcbridge.sidecar")

# How long a worker has to answer ListProcedures before it leaves routing.
LIST_TIMEOUT = 1.0


class WorkerPool:
    """Workers known to the sidecar, their channels, and the catalogue they feed.

    Args:
        addresses: `host:port`, `name:port` or `dns:///name:port`; a name stands for every
            address it resolves to.
        resolver: host name to addresses (tests inject one).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        addresses: Iterable[str],
        secret: str = "",
        refresh_seconds: float = 2.0,
        tls: TlsFiles | None = None,
        stream: bool = True,
        resolver: Resolver = resolve_host,
    ) -> None:
        self.catalogue = catalogue
        self._refresh_seconds = refresh_seconds
        self._proof = [(metadata.SIDECAR_PROOF, secret)] if secret else []
        self._tls = tls
        self._stream = stream
        self._discovery = WorkerDiscovery(addresses, resolver)
        self._connections: dict[str, WorkerConnection] = {}
        self._busy: collections.Counter[WorkerConnection] = collections.Counter()
        self._retired: set[WorkerConnection] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Ask every worker once, then keep refreshing in the background."""
        await self.refresh()
        self._task = asyncio.create_task(self._refresh_forever(), name="worker-refresh")

    async def refresh(self) -> None:
        """Resolve worker names, ask every worker for its procedures and update the catalogue."""
        await self._discover()
        await asyncio.gather(*(self._refresh_one(c) for c in list(self._connections.values())))

    async def _discover(self) -> None:
        """Open connections to new addresses; retire those no name resolves to any more."""
        wanted = await self._discovery.addresses()
        for address, name in wanted.items():
            if address not in self._connections:
                self._connections[address] = WorkerConnection(
                    address, self._proof, self._tls, self._stream, server_name=name
                )
        for address in set(self._connections) - set(wanted):
            connection = self._connections.pop(address)
            if self.catalogue.drop(address):
                log.warning("worker %s left routing: its name no longer resolves to it", address)
            self._retired.add(connection)
            self._close_when_idle(connection)

    def _close_when_idle(self, connection: WorkerConnection) -> None:
        if connection in self._retired and not self._busy[connection]:
            self._retired.discard(connection)
            self._busy.pop(connection, None)
            task = asyncio.create_task(connection.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

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
        connection = self._connections.get(address)
        if connection is None:  # retired between routing and sending: nothing was sent
            return Status.UNAVAILABLE, "worker unreachable"
        self._busy[connection] += 1
        try:
            answer = await connection.invoke(request, dict(extra), deadline)
        finally:
            self._busy[connection] -= 1
            self._close_when_idle(connection)
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
        await asyncio.gather(*(c.aclose() for c in [*self._connections.values(), *self._retired]))
        await asyncio.gather(*self._closing)
