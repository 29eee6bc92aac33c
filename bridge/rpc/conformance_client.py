"""The gRPC side of the conformance kit: calls one worker's `rpcbridge.v1.Worker` and health services.

Answers are neutral (`Outcome`, `ProcedureInfo`, a `Status` and its details), so the checks in
`bridge.conformance` never touch grpc or the generated stubs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge import metadata
from bridge.calls import Call, Outcome
from bridge.errors import Status
from bridge.procedures import ProcedureInfo
from bridge.rpc.channels import open_channel
from bridge.rpc.descriptors import message_to_info
from bridge.rpc.streams import INVOKE_PATH, STREAM_PATH
from bridge.rpc.tls import channel_credentials
from bridge.rpc.values import call_to_request, response_to_outcome
from bridge.settings import TlsFiles
from rpcbridge.v1 import worker_pb2

LIST_PATH: Final = "/rpcbridge.v1.Worker/ListProcedures"

Refusal = tuple[Status, str]
"""A gRPC status other than OK, and its details."""


def _refusal(exc: grpc.aio.AioRpcError) -> Refusal:
    return Status(exc.code().value[0]), exc.details() or ""


class WorkerProbe:
    """A client of one worker that can send or withhold the sidecar's proof on each call."""

    def __init__(self, target: str, secret: str = "", tls: TlsFiles | None = None) -> None:
        self._channel = open_channel(target, channel_credentials(tls) if tls is not None else None)
        self._secret = secret
        self._invoke = self._channel.unary_unary(
            INVOKE_PATH,
            request_serializer=worker_pb2.InvokeRequest.SerializeToString,
            response_deserializer=worker_pb2.InvokeResponse.FromString,
        )
        self._list = self._channel.unary_unary(
            LIST_PATH,
            request_serializer=worker_pb2.ListProceduresRequest.SerializeToString,
            response_deserializer=worker_pb2.ListProceduresResponse.FromString,
        )
        # Typed Any: the stubs know only the form that is handed a request iterator up front.
        self._stream: Any = self._channel.stream_stream(
            STREAM_PATH,
            request_serializer=worker_pb2.InvokeStreamRequest.SerializeToString,
            response_deserializer=worker_pb2.InvokeStreamResponse.FromString,
        )
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def _metadata(self, proof: str | None) -> Sequence[tuple[str, str]]:
        sent = self._secret if proof is None else proof
        return [(metadata.SIDECAR_PROOF, sent)] if sent else []

    async def list_procedures(
        self, proof: str | None = None, deadline: float = 5.0
    ) -> list[ProcedureInfo] | Refusal:
        """The worker's catalogue; `proof` replaces the secret ("" sends none)."""
        try:
            answer = await self._list(
                worker_pb2.ListProceduresRequest(), timeout=deadline, metadata=self._metadata(proof)
            )
        except grpc.aio.AioRpcError as exc:
            return _refusal(exc)
        return [message_to_info(message) for message in answer.procedures]

    async def invoke(self, call: Call, proof: str | None = None, deadline: float = 5.0) -> Outcome | Refusal:
        """One unary Invoke; `proof` replaces the secret ("" sends none)."""
        try:
            answer = await self._invoke(
                call_to_request(call, protocol="conformance"),
                timeout=deadline,
                metadata=self._metadata(proof),
            )
        except grpc.aio.AioRpcError as exc:
            return _refusal(exc)
        return response_to_outcome(answer)

    async def invoke_streamed(
        self, call: Call, proof: str | None = None, deadline: float = 5.0
    ) -> Outcome | Refusal:
        """One call on a fresh InvokeStream: its outcome, its per-call status, or the stream's status."""
        request = call_to_request(call, protocol="conformance").SerializeToString()
        streamed = worker_pb2.StreamedCall(id=7, request=request, timeout_seconds=deadline)
        stream = self._stream(timeout=deadline, metadata=self._metadata(proof))
        try:
            await stream.write(worker_pb2.InvokeStreamRequest(calls=[streamed]))
            async for message in stream:
                for result in message.results:
                    if result.id != streamed.id:
                        return Status.INTERNAL, f"a result for call id {result.id}, which was never sent"
                    if result.status != Status.OK:
                        return Status(result.status), result.details
                    return response_to_outcome(worker_pb2.InvokeResponse.FromString(result.response))
        except grpc.aio.AioRpcError as exc:
            return _refusal(exc)
        finally:
            stream.cancel()
        return Status.INTERNAL, "the stream ended without a result"

    async def empty_stream(self, proof: str | None = None, deadline: float = 5.0) -> Status:
        """The status of an InvokeStream that sends no call: OK, UNIMPLEMENTED, UNAUTHENTICATED, ...

        Nothing is written, so no write can race a server that refuses the stream at once (gRPC
        core would report that race as INTERNAL, hiding the server's own status).
        """
        stream = self._stream(timeout=deadline, metadata=self._metadata(proof))
        try:
            await stream.done_writing()
            async for _ in stream:
                return Status.INTERNAL  # a result for a call that was never sent
            return Status((await stream.code()).value[0])
        except grpc.aio.AioRpcError as exc:
            return _refusal(exc)[0]
        finally:
            stream.cancel()

    async def health(self, service: str = "", deadline: float = 5.0) -> str | Refusal:
        """`grpc.health.v1.Health/Check` for `service`: "SERVING", "NOT_SERVING", ..., or the refusal."""
        try:
            answer = await self._health.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=deadline
            )
        except grpc.aio.AioRpcError as exc:
            return _refusal(exc)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))

    async def aclose(self) -> None:
        """Close the channel."""
        await self._channel.close(None)
