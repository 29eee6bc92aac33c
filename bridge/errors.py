"""The one exception tree of rpcbridge, and gRPC status as the internal language of failure.

Imports nothing from the project. Every exception rpcbridge raises on purpose is in this tree
(each defined next to the code that raises it, named here so the tree is read in one place):

    BridgeError
     ├── Fault                 a fault outcome: code, message, data (a frozen `FaultValue`); raised
     │    │                    by procedures, returned by codecs and the frontend, sent to clients
     │    └── AuthFailure      a refused call, with its reason (bridge.auth.failures)
     ├── ConfigError           invalid settings, bad worker targets; raised at start-up only
     ├── WireError             bytes that are not a well-formed protobuf message (bridge.rpc.wire)
     ├── StoreError            a store failed or refused (bridge.store.interfaces)
     │    ├── StoreUnavailable, SchemaError
     │    └── DuplicateUserError, UnknownUserError, InvalidUserError
     └── TransportError        the client kit got no answer in its protocol (bridge.client.failures)
          └── TransportTimeout, HTTPStatusError, InvalidReply

Failures of transport, deadline, auth and routing inside the bridge are carried as a `Status`
(numbered as gRPC status codes; `bridge.rpc.status_codes.status_of` is where a grpc exception
becomes one) and turned into a `Fault` by `bridge.faults.fault_for_status`, in one place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class FaultValue:
    """What a fault is: its code, message and optional structured data (never a traceback or a secret)."""

    code: int
    message: str
    data: Any = None


class Fault(BridgeError):
    """A fault outcome sent to the client in its protocol's fault form: an exception carrying a `FaultValue`.

    Procedures raise it to return an application fault (`raise Fault(4, "no such user")`, the SDK
    contract in DESIGN.md); the bridge returns it as an `Outcome` for protocol and bridge conditions,
    with the codes in `bridge.faults`. It is one thing, a value that can be raised: its fields are
    read-only and it compares by value. It is not itself a frozen dataclass, because Python assigns
    `__traceback__` on exceptions it re-raises (contextlib does), which a frozen dataclass refuses.
    """

    __match_args__ = ("code", "message", "data")

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message)
        self._value = FaultValue(int(code), str(message), data)

    @classmethod
    def of(cls, value: FaultValue) -> Fault:
        """The fault that carries `value`."""
        return cls(value.code, value.message, value.data)

    @property
    def value(self) -> FaultValue:
        """The fault as a frozen value."""
        return self._value

    @property
    def code(self) -> int:
        """The fault code (bridge.faults lists the bridge's own)."""
        return self._value.code

    @property
    def message(self) -> str:
        """The fault string."""
        return self._value.message

    @property
    def data(self) -> Any:
        """Optional structured detail."""
        return self._value.data

    def __repr__(self) -> str:
        return f"Fault({self.code!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fault):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        # `data` may be a list or a dict; equal faults still hash alike.
        return hash((self.code, self.message))
