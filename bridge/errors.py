"""The one exception tree of rpcbridge, and gRPC status as the internal language of failure.

Imports nothing from the project. The tree:

    BridgeError
     ├── Fault            an outcome with an XML-RPC / JSON-RPC code: raised by procedures,
     │                    codecs (malformed requests) and the frontend; returned to clients
     └── ConfigError      invalid settings, bad worker targets; raised at start-up only

Failures of transport, deadline, auth and routing are carried as a `Status` (numbered as gRPC
status codes) and turned into a `Fault` by `bridge.faults.fault_for_status`, in one place.
"""

from __future__ import annotations

import enum
from typing import Any


class Status(enum.IntEnum):
    """gRPC status codes, numbered as in grpc/status.proto, for layers that must not import grpc."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class BridgeError(Exception):
    """Root of every exception rpcbridge raises on purpose."""


class ConfigError(BridgeError):
    """Settings or a command-line target are invalid; raised at start-up, never per call."""


class Fault(BridgeError):
    """A fault with a code and message, returned to the client in its protocol's fault form.

    Procedures raise it to return an application fault (`raise Fault(4, "no such user")`);
    the bridge raises it for protocol and bridge conditions, with the codes in `bridge.faults`.
    `data` is optional structured detail and never holds a traceback or a secret.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message)
        self.code = int(code)
        self.message = str(message)
        self.data = data

    def __repr__(self) -> str:
        return f"Fault({self.code!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fault):
            return NotImplemented
        return (self.code, self.message, self.data) == (other.code, other.message, other.data)

    def __hash__(self) -> int:
        return hash((self.code, self.message))
