"""The frontend's way to the sidecar's `rpcbridge.v1.Realtime` service, on a channel of its own.

gRPC failures become faults (socket authentication) or `RealtimeUnavailable` (stream, history)
here; callers never see a grpc exception. Separate from `sidecar_client`, which carries calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from bridge import metadata
from bridge.calls import Credentials
from bridge.errors import BridgeError, Fault
from bridge.events.realtime import (
    HistoryPage,
    SocketControl,
    SocketIdentity,
    StreamedEvent,
    StreamHello,
    StreamItem,
)
from bridge.faults import fault_for_status
from bridge.rpc.channels import open_channel
from bridge.rpc.status_codes import status_of
from rpcbridge.v1 import realtime_pb2

# Seconds a socket's authentication or a history page may take.
CALL_TIMEOUT = 10.0


class RealtimeUnavailable(BridgeError):
    """The sidecar's event stream or history could not be reached."""


def _event(message: realtime_pb2.StreamedEvent) -> StreamedEvent:
    return StreamedEvent(message.id, message.type, message.offset, message.data_json, message.auth)


def _item(message: realtime_pb2.StreamEventsResponse) -> StreamItem:
    which = message.WhichOneof("item")
    if which == "hello":
        return StreamHello(message.hello.epoch, message.hello.offset)
    if which == "control":
        return SocketControl(message.control.user, message.control.key_id, message.control.reason)
    return _event(message.event)


class RealtimeClient:
    """Socket authentication, the event stream and history reads, over one channel to the sidecar."""

    def __init__(self, target: str) -> None:
        self._channel = open_channel(target)
        self._authenticate = self._channel.unary_unary(
            "/rpcbridge.v1.Realtime/AuthenticateSocket",
            request_serializer=realtime_pb2.AuthenticateSocketRequest.SerializeToString,
            response_deserializer=realtime_pb2.AuthenticateSocketResponse.FromString,
        )
        self._stream = self._channel.unary_stream(
            "/rpcbridge.v1.Realtime/StreamEvents",
            request_serializer=realtime_pb2.StreamEventsRequest.SerializeToString,
            response_deserializer=realtime_pb2.StreamEventsResponse.FromString,
        )
        self._read = self._channel.unary_unary(
            "/rpcbridge.v1.Realtime/ReadEvents",
            request_serializer=realtime_pb2.ReadEventsRequest.SerializeToString,
            response_deserializer=realtime_pb2.ReadEventsResponse.FromString,
        )

    async def authenticate(self, creds: Credentials, request_id: str) -> SocketIdentity | Fault:
        """The identity the sidecar vouches for, or the fault refusing the credentials."""
        request = realtime_pb2.AuthenticateSocketRequest(
            form=creds.form,
            user=creds.username,
            nonce=creds.nonce,
            timestamp=creds.timestamp,
            signature=creds.signature,
            method=creds.method,
            path=creds.path,
            body_sha256=creds.body_sha256,
        )
        try:
            answer = await self._authenticate(
                request, timeout=CALL_TIMEOUT, metadata=((metadata.REQUEST_ID, request_id),)
            )
        except grpc.aio.AioRpcError as exc:
            return fault_for_status(status_of(exc), exc.details() or "")
        return SocketIdentity(answer.token, answer.user, answer.key_id, tuple(answer.scopes))

    async def stream(self) -> AsyncIterator[StreamItem]:
        """The sidecar's hello, events and control messages; raises RealtimeUnavailable when it ends."""
        call = self._stream(realtime_pb2.StreamEventsRequest())
        try:
            async for message in call:
                yield _item(message)
        except grpc.aio.AioRpcError as exc:
            raise RealtimeUnavailable(f"event stream ended: {exc.code().name}") from exc
        finally:
            call.cancel()
        raise RealtimeUnavailable("event stream ended")

    async def read(self, after: int, limit: int) -> HistoryPage:
        """A page of history after `after`; raises RealtimeUnavailable."""
        try:
            answer = await self._read(
                realtime_pb2.ReadEventsRequest(after=after, limit=limit), timeout=CALL_TIMEOUT
            )
        except grpc.aio.AioRpcError as exc:
            raise RealtimeUnavailable(f"event history: {exc.code().name}") from exc
        return HistoryPage(
            answer.epoch, answer.reaches_back, answer.offset, tuple(_event(e) for e in answer.events)
        )

    async def aclose(self) -> None:
        """Close the channel."""
        await self._channel.close(None)
