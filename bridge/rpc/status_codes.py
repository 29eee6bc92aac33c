"""Where a grpc exception becomes a `bridge.errors.Status`, and a `Status` a grpc code: one place each."""

from __future__ import annotations

import grpc

from bridge.errors import Status


def status_of(exc: grpc.aio.AioRpcError) -> Status:
    """The status a failed gRPC call ended with (grpc numbers its codes as `Status` does)."""
    return Status(exc.code().value[0])


def grpc_code(status: Status) -> grpc.StatusCode:
    """The grpc code for a status, to end a call with it."""
    return grpc.StatusCode[status.name]
