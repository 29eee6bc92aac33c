"""One connection to a worker: bytes-level Invoke (streamed, unary fallback) and ListProcedures.

The sidecar's worker pool holds one per worker and never sees grpc: a failure comes back as the
`Status` (and details) that ended the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import grpc

from bridge.errors import Status
from bridge.procedures import WorkerDescription
from bridge.rpc.channels import open_channel
from bridge.rpc.descriptors import message_to_hook, message_to_info
from bridge.rpc.status_codes import status_of
from bridge.rpc.streams import Answer, StreamInvoker
from bridge.rpc.tls import channel_credentials
from bridge.settings import TlsFiles
from rpcbridge.v1 import worker_pb2

LIST_PATH: Final = "/rpcbridge.v1.Worker/ListProcedures"


class WorkerConnection:
    """A channel to one worker, carrying the sidecar's proof on every call.

    Args:
        proof: metadata sent with every call (the shared secret), empty with mTLS or none.
        stream: carry calls on one multiplexed InvokeStream (setting `stream_calls`).
    """

    def __init__(
        self, address: str, proof: Sequence[tuple[str, str]], tls: TlsFiles | None = None, stream: bool = True
    ) -> None:
        self.address = address
        self._proof = tuple(proof)
        self._channel = open_channel(address, channel_credentials(tls) if tls is not None else None)
        # Requests and responses pass through as bytes, several per message on one stream.
        self._invoker = StreamInvoker(self._channel, self._proof, stream=stream)
        self._list = self._channel.unary_unary(
            LIST_PATH,
            request_serializer=worker_pb2.ListProceduresRequest.SerializeToString,
            response_deserializer=worker_pb2.ListProceduresResponse.FromString,
        )

    async def invoke(self, request: bytes, metadata: Mapping[str, str], deadline: float | None) -> Answer:
        """Send serialized InvokeRequest bytes; the response bytes, or the status that replaced them."""
        return await self._invoker.invoke(request, metadata, deadline)

    async def list_procedures(self, deadline: float) -> WorkerDescription | tuple[Status, str]:
        """The procedures and hooks the worker describes within `deadline` seconds, or the failure status."""
        try:
            answer = await self._list(
                worker_pb2.ListProceduresRequest(), timeout=deadline, metadata=self._proof
            )
        except grpc.aio.AioRpcError as exc:
            return status_of(exc), exc.details() or ""
        return WorkerDescription(
            tuple(message_to_info(p) for p in answer.procedures),
            tuple(message_to_hook(h) for h in answer.hooks),
        )

    async def aclose(self) -> None:
        """Close the stream and the channel."""
        await self._invoker.aclose()
        await self._channel.close(None)
