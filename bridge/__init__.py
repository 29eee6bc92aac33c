"""rpcbridge: one set of services for XML-RPC, JSON-RPC, pickle-over-HTTP and gRPC clients.

The public SDK for writing Python workers: `Worker`, `Fault`, `Caller`, `Hook`, `call_context()`.
"""

from bridge.errors import Fault
from bridge.worker import CallContext, Caller, EmitError, Hook, Worker, call_context

__all__ = ["CallContext", "Caller", "EmitError", "Fault", "Hook", "Worker", "call_context"]
