"""Modern clients: the generated stubs call the sidecar's rpcbridge.v1.Worker directly."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from bridge.rpc.values import from_value, to_value
from bridge.testing import Deployment
from rpcbridge.v1 import worker_pb2, worker_pb2_grpc
from tests.neutral_values import same


@pytest.fixture
def stub(bridge: Deployment) -> Iterator[worker_pb2_grpc.WorkerStub]:
    with grpc.insecure_channel(bridge.grpc_address) as channel:
        yield worker_pb2_grpc.WorkerStub(channel)


def test_generated_stub_invokes_a_procedure(stub: worker_pb2_grpc.WorkerStub) -> None:
    """A gRPC client with the generated stubs reaches a worker's procedure through the sidecar."""
    request = worker_pb2.InvokeRequest(procedure="math.add", params=[to_value(2), to_value(40)])
    response = stub.Invoke(request)
    assert from_value(response.result) == 42


def test_values_keep_their_types_over_grpc(stub: worker_pb2_grpc.WorkerStub) -> None:
    """Big ints, datetimes with offsets, bytes and decimals survive a gRPC round trip."""
    value = {
        "big": 2**80,
        "when": datetime.datetime(
            2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
        ),
        "raw": b"\x00",
    }
    response = stub.Invoke(worker_pb2.InvokeRequest(procedure="echo.any", params=[to_value(value)]))
    assert same(from_value(response.result), value)


def test_application_fault_travels_in_the_reply_with_status_ok(stub: worker_pb2_grpc.WorkerStub) -> None:
    """Faults are data (status OK), not gRPC errors."""
    response = stub.Invoke(
        worker_pb2.InvokeRequest(procedure="math.divide", params=[to_value(1), to_value(0)])
    )
    assert (response.fault.code, response.fault.message) == (1, "division by zero")


def test_unknown_procedure_is_not_found_status(stub: worker_pb2_grpc.WorkerStub) -> None:
    """Routing failures are gRPC statuses: an unknown procedure is NOT_FOUND."""
    with pytest.raises(grpc.RpcError) as raised:
        stub.Invoke(worker_pb2.InvokeRequest(procedure="no.such"))
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


def test_catalogue_lists_procedures_with_signatures(stub: worker_pb2_grpc.WorkerStub) -> None:
    """ListProcedures on the sidecar returns the workers' procedures, help and parameter types."""
    answer = stub.ListProcedures(worker_pb2.ListProceduresRequest())
    add = next(p for p in answer.procedures if p.name == "math.add")
    assert [(p.name, p.type) for p in add.params] == [("a", "int"), ("b", "int")]
    assert add.returns == "int"


def test_health_service_answers_serving(bridge: Deployment) -> None:
    """grpc.health.v1 is registered on the sidecar."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(bridge.grpc_address) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="rpcbridge.v1.Worker")
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_sidecar_reflection_lists_and_calls_the_worker_service(bridge: Deployment) -> None:
    """Server reflection lets a client with no protos (grpcurl, Postman) list and call rpcbridge.v1.Worker."""
    with grpc.insecure_channel(bridge.grpc_address) as channel:
        reflected = ProtoReflectionDescriptorDatabase(channel)
        assert {"rpcbridge.v1.Worker", "rpcbridge.v1.Sidecar", "grpc.health.v1.Health"} <= set(
            reflected.get_services()
        )
        pool = descriptor_pool.DescriptorPool(reflected)
        invoke = pool.FindServiceByName("rpcbridge.v1.Worker").FindMethodByName("Invoke")
        request_class = message_factory.GetMessageClass(invoke.input_type)
        response_class = message_factory.GetMessageClass(invoke.output_type)
        request = json_format.ParseDict(
            {"procedure": "math.add", "params": [{"intValue": "2"}, {"intValue": "40"}]}, request_class()
        )
        call = channel.unary_unary(
            "/rpcbridge.v1.Worker/Invoke",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        answer = json_format.MessageToDict(call(request, timeout=10))
    assert answer == {"result": {"intValue": "42"}}
