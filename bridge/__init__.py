"""rpcbridge: one set of services for XML-RPC, JSON-RPC, pickle-over-HTTP and gRPC clients.

The public SDK for writing Python workers: `Worker`, `Fault`, `Caller`, `Hook`.
"""

from bridge.errors import Fault
from bridge.worker import Caller, EmitError, Hook, Worker

__all__ = ["Caller", "EmitError", "Fault", "Hook", "Worker"]
