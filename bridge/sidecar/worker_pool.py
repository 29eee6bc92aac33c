"""The sidecar's connections to workers: bytes-level Invoke, and catalogue refresh.

Every `refresh_seconds` each worker is asked for `ListProcedures`; one that answers is (re)entered
in the catalogue, one that does not is taken out of routing until it answers again. A call that
finds its worker unreachable takes it out at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence

import grpc

from bridge import metadata
from bridge.errors import Status
from bridge.rpc.channels import open_channel
from bridge.rpc.descriptors import message_to_info
from bridge.rpc.streams import StreamInvoker
from bridge.rpc.tls import channel_credentials
from bridge.settings import TlsFiles
from bridge.sidecar.catalogue import Catalogue
from rpcbridge.v1 import worker_pb2

log = logging.getLogger("rpcbridge.sidecar")

LIST_PATH = "/rpcbridge.v1.Worker/ListProcedures"


class _Connection:
    def __init__(
        self,
        address: str,
        credentials: grpc.ChannelCredentials | None,
        proof: Sequence[tuple[str, str]],
        stream: bool,
    ) -> None:
        self.address = address
        self.channel = open_channel(address, credentials)
        # Requests and responses pass through as bytes, several per message on one stream.
        self.invoker = StreamInvoker(self.channel, proof, stream=stream)
        self.list_procedures = self.channel.unary_unary(
            LIST_PATH,
            request_serializer=worker_pb2.ListProceduresRequest.SerializeToString,
            response_deserializer=worker_pb2.ListProceduresResponse.FromString,
        )


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
        self._secret = secret
        self._refresh_seconds = refresh_seconds
        self._credentials = channel_credentials(tls) if tls is not None else None
        self._stream = stream
        self._connections = {address: self._connect(address) for address in addresses}
        self._task: asyncio.Task[None] | None = None

    def _connect(self, address: str) -> _Connection:
        return _Connection(address, self._credentials, self._proof(), self._stream)

    def _proof(self) -> list[tuple[str, str]]:
        return [(metadata.SIDECAR_PROOF, self._secret)] if self._secret else []

    async def start(self) -> None:
        """Ask every worker once, then keep refreshing in the background."""
        await self.refresh()
        self._task = asyncio.create_task(self._refresh_forever(), name="worker-refresh")

    async def refresh(self) -> None:
        """Ask every worker for its procedures and update the catalogue."""
        await asyncio.gather(*(self._refresh_one(c) for c in list(self._connections.values())))

    async def _refresh_one(self, connection: _Connection) -> None:
        try:
            answer = await connection.list_procedures(
                worker_pb2.ListProceduresRequest(), timeout=1.0, metadata=self._proof()
            )
        except grpc.aio.AioRpcError as exc:
            if self.catalogue.drop(connection.address):
                log.warning("worker %s left routing: %s", connection.address, exc.code().name)
            return
        procedures = [message_to_info(p) for p in answer.procedures]
        if self.catalogue.update(connection.address, procedures):
            log.info("worker %s serves %d procedures", connection.address, len(procedures))

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
        answer = await self._connections[address].invoker.invoke(request, dict(extra), deadline)
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
        await asyncio.gather(*(c.invoker.aclose() for c in self._connections.values()))
        await asyncio.gather(*(c.channel.close(None) for c in self._connections.values()))
