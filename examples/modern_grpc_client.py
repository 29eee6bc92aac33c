"""A modern client: only grpc and the stubs generated from proto/, calling a legacy XML-RPC procedure.

    python examples/modern_grpc_client.py 127.0.0.1:50051 legacy.

calls `legacy.add(2, 40)` and `legacy.greet("gRPC")` on the sidecar's rpcbridge.v1.Worker service;
the sidecar routes them to the legacy adapter, which forwards them to the XML-RPC server. Values
are `rpcbridge.v1.Value` messages built by hand, as a client in any language would. It imports
nothing from the `bridge` package.
"""

from __future__ import annotations

import sys

import grpc

from rpcbridge.v1 import value_pb2, worker_pb2, worker_pb2_grpc


def plain(value: value_pb2.Value) -> object:
    """The scalar a Value message holds (enough for this example's answers)."""
    kind = value.WhichOneof("kind")
    return None if kind in (None, "null_value") else getattr(value, kind)


def invoke(stub: worker_pb2_grpc.WorkerStub, procedure: str, *params: value_pb2.Value) -> object:
    """Call one procedure; print and return its result, or exit on a fault."""
    response = stub.Invoke(worker_pb2.InvokeRequest(procedure=procedure, params=params), timeout=30)
    if response.WhichOneof("outcome") == "fault":
        sys.exit(f"{procedure} failed: fault {response.fault.code}: {response.fault.message}")
    result = plain(response.result)
    print(f"{procedure} -> {result!r}")
    return result


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"
    prefix = sys.argv[2] if len(sys.argv) > 2 else "legacy."
    with grpc.insecure_channel(target) as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        invoke(stub, prefix + "add", value_pb2.Value(int_value=2), value_pb2.Value(int_value=40))
        invoke(stub, prefix + "greet", value_pb2.Value(string_value="gRPC"))


if __name__ == "__main__":
    main()
