"""gRPC client channel settings shared by every process that calls another."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from bridge.rpc.servers import MAX_MESSAGE_BYTES

# Reconnect quickly: a worker that restarts must be back in routing within a refresh or two,
# not after gRPC's default backoff of up to two minutes.
CHANNEL_OPTIONS: Sequence[tuple[str, int]] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),
)


def open_channel(
    target: str, credentials: grpc.ChannelCredentials | None = None, server_name: str = ""
) -> grpc.aio.Channel:
    """A channel to another of the bridge's processes: TLS with `credentials`, else plaintext.

    Args:
        server_name: the name the server's certificate must carry, when `target` is an address
            found by resolving that name (bridge.sidecar.worker_discovery).
    """
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
    options = (
        [*CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", server_name)] if server_name else CHANNEL_OPTIONS
    )
    return grpc.aio.secure_channel(target, credentials, options=options)
