"""The sidecar's `rpcbridge.v1.Realtime` service: the gRPC face of its realtime side.

Knows nothing of the sidecar (it must not import `bridge.sidecar`): a `RealtimeHandler` does the
work; this module maps messages to `bridge.events.realtime` values and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final, Protocol

import grpc

from bridge.calls import Credentials
from bridge.errors import Status
from bridge.events.realtime import (
    HistoryPage,
    SocketControl,
    SocketIdentity,
    StreamedEvent,
    StreamHello,
    StreamItem,
)
from bridge.rpc.status_codes import grpc_code
from bridge.store.interfaces import StoreError
from rpcbridge.v1 import realtime_pb2

SERVICE_NAME: Final = "rpcbridge.v1.Realtime"


class RealtimeHandler(Protocol):
    """What the Realtime service hands its calls to (the sidecar's event feed)."""

    async def authenticate(self, creds: Credentials) -> SocketIdentity | tuple[Status, str]:
        """The socket's identity, or the status refusing it."""
        ...

    def stream(self) -> AsyncIterator[StreamItem]:
        """Hello, then events and control messages."""
        ...

    async def read(self, after: int, limit: int) -> HistoryPage:
        """A page of history."""
        ...


def event_to_message(event: StreamedEvent) -> realtime_pb2.StreamedEvent:
    """The proto form of a streamed event."""
    return realtime_pb2.StreamedEvent(
        id=event.id, type=event.type, offset=event.offset, data_json=event.data_json, auth=event.auth
    )


def _item_to_message(item: StreamItem) -> realtime_pb2.StreamEventsResponse:
    if isinstance(item, StreamHello):
        return realtime_pb2.StreamEventsResponse(
            hello=realtime_pb2.StreamHello(epoch=item.epoch, offset=item.offset)
        )
    if isinstance(item, SocketControl):
        control = realtime_pb2.SocketControl(user=item.user, key_id=item.key_id, reason=item.reason)
        return realtime_pb2.StreamEventsResponse(control=control)
    return realtime_pb2.StreamEventsResponse(event=event_to_message(item))


def realtime_handler(handler: RealtimeHandler) -> grpc.GenericRpcHandler[Any, Any]:
    """The method table of `rpcbridge.v1.Realtime` over `handler`."""

    async def authenticate_socket(
        request: realtime_pb2.AuthenticateSocketRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> realtime_pb2.AuthenticateSocketResponse:
        creds = Credentials(
            form=request.form,
            username=request.user,
            nonce=request.nonce,
            timestamp=request.timestamp,
            signature=request.signature,
            method=request.method,
            path=request.path,
            body_sha256=request.body_sha256,
        )
        answer = await handler.authenticate(creds)
        if isinstance(answer, tuple):
            await context.abort(grpc_code(answer[0]), answer[1])
        assert isinstance(answer, SocketIdentity)
        return realtime_pb2.AuthenticateSocketResponse(
            token=answer.token, user=answer.user, key_id=answer.key_id, scopes=list(answer.scopes)
        )

    async def stream_events(
        request: realtime_pb2.StreamEventsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[realtime_pb2.StreamEventsResponse]:
        async for item in handler.stream():
            yield _item_to_message(item)

    async def read_events(
        request: realtime_pb2.ReadEventsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> realtime_pb2.ReadEventsResponse:
        try:
            page = await handler.read(request.after, request.limit)
        except StoreError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"event history unavailable: {exc}")
        return realtime_pb2.ReadEventsResponse(
            epoch=page.epoch,
            reaches_back=page.reaches_back,
            offset=page.offset,
            events=[event_to_message(e) for e in page.events],
        )

    handlers = {
        "AuthenticateSocket": grpc.unary_unary_rpc_method_handler(
            authenticate_socket,
            request_deserializer=realtime_pb2.AuthenticateSocketRequest.FromString,
            response_serializer=realtime_pb2.AuthenticateSocketResponse.SerializeToString,
        ),
        "StreamEvents": grpc.unary_stream_rpc_method_handler(
            stream_events,
            request_deserializer=realtime_pb2.StreamEventsRequest.FromString,
            response_serializer=realtime_pb2.StreamEventsResponse.SerializeToString,
        ),
        "ReadEvents": grpc.unary_unary_rpc_method_handler(
            read_events,
            request_deserializer=realtime_pb2.ReadEventsRequest.FromString,
            response_serializer=realtime_pb2.ReadEventsResponse.SerializeToString,
        ),
    }
    return grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)
