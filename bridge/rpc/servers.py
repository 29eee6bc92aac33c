"""Starting and stopping grpc.aio servers, with `grpc.health.v1` and, on request, server reflection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]  # stubs predate aio

from bridge.errors import ConfigError
from rpcbridge.v1 import worker_pb2

# Calls carry bounded payloads; the frontend enforces the HTTP limits, this bounds gRPC clients.
MAX_MESSAGE_BYTES = 16 << 20
SERVER_OPTIONS: Sequence[tuple[str, int]] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.so_reuseport", 0),
)


class RunningServer:
    """A started gRPC server, the address it is bound to, and its health servicer."""

    def __init__(self, server: grpc.aio.Server, address: str, health_servicer: Any) -> None:
        self.server = server
        self.address = address
        self.health = health_servicer

    async def stop(self, grace: float = 5.0) -> None:
        """Report NOT_SERVING, let calls in flight finish within `grace` seconds, then stop."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_server(
    listen: str,
    handlers: Sequence[grpc.GenericRpcHandler[Any, Any]],
    service_names: Sequence[str],
    credentials: grpc.ServerCredentials | None = None,
    *,
    reflection: bool = False,
) -> RunningServer:
    """Bind `listen` (host:port, port 0 = kernel-chosen), register handlers and health, start.

    Args:
        credentials: serve TLS with these (mTLS for workers); None serves plaintext.
        reflection: also serve gRPC server reflection for `service_names` and health, so tools
            such as grpcurl and Postman can list and call them without the protos.
    """
    server = grpc.aio.server(options=SERVER_OPTIONS)
    server.add_generic_rpc_handlers(tuple(handlers))
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if reflection:
        # grpcio-reflection comes with the `server` extra; a worker installed without it never
        # gets here. Reflection reads the default descriptor pool, where the imported stubs are.
        from grpc_reflection.v1alpha import reflection as grpc_reflection

        grpc_reflection.enable_server_reflection(
            (*service_names, health.SERVICE_NAME, grpc_reflection.SERVICE_NAME),
            server,
        )
    host, _, port_text = listen.rpartition(":")
    try:
        if credentials is None:
            port = server.add_insecure_port(listen)
        else:
            port = server.add_secure_port(listen, credentials)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {listen}: {exc}") from exc
    if port == 0 and port_text != "0":
        raise ConfigError(f"cannot listen on {listen}")
    await server.start()
    for name in ("", *service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, f"{host or '127.0.0.1'}:{port}", health_servicer)


WORKER_SERVICE = "rpcbridge.v1.Worker"


def worker_service_handler(
    invoke: Any, invoke_stream: Any, list_procedures: Any, *, invoke_as_bytes: bool = False
) -> grpc.GenericRpcHandler[Any, Any]:
    """The `rpcbridge.v1.Worker` method table, for workers and for the sidecar that stands in for them.

    Args:
        invoke_as_bytes: hand `invoke` the serialized InvokeRequest and send back the bytes it
            returns (the sidecar's proxy path), instead of messages.
    """
    if invoke_as_bytes:
        unary = grpc.unary_unary_rpc_method_handler(invoke)
    else:
        unary = grpc.unary_unary_rpc_method_handler(
            invoke,
            request_deserializer=worker_pb2.InvokeRequest.FromString,
            response_serializer=worker_pb2.InvokeResponse.SerializeToString,
        )
    handlers = {
        "Invoke": unary,
        "InvokeStream": grpc.stream_stream_rpc_method_handler(
            invoke_stream,
            request_deserializer=worker_pb2.InvokeStreamRequest.FromString,
            response_serializer=worker_pb2.InvokeStreamResponse.SerializeToString,
        ),
        "ListProcedures": grpc.unary_unary_rpc_method_handler(
            list_procedures,
            request_deserializer=worker_pb2.ListProceduresRequest.FromString,
            response_serializer=worker_pb2.ListProceduresResponse.SerializeToString,
        ),
    }
    return grpc.method_handlers_generic_handler(WORKER_SERVICE, handlers)
