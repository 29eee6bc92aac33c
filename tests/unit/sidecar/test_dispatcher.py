"""SidecarService, the dispatcher: reading the request head, building the call, routing it to a worker."""

from __future__ import annotations

from bridge import metadata
from bridge.errors import Status
from bridge.procedures import ProcedureInfo
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply
from bridge.sidecar.service import SidecarService, forward_to_worker
from tests.unit.sidecar.fakes import FakeWorkers, a_call, request_bytes

MAX_TIMEOUT = 30.0


def served(*procedures: ProcedureInfo, answer: bytes | tuple[Status, str] = b"worker answer") -> FakeWorkers:
    workers = FakeWorkers(answer)
    workers.catalogue.update("127.0.0.1:7001", list(procedures))
    return workers


class Remember:
    """An interceptor that keeps each call it sees."""

    def __init__(self) -> None:
        self.calls: list[ProxiedCall] = []

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        self.calls.append(call)
        return await proceed(call)


async def test_a_call_is_read_from_the_wire_passes_the_chain_and_reaches_its_worker() -> None:
    workers = served(ProcedureInfo("echo"))
    seen = Remember()
    service = SidecarService(workers, [seen], MAX_TIMEOUT)
    request = request_bytes("echo", "hi", api_version=2, protocol="jsonrpc")

    reply, request_id = await service.invoke(request, {metadata.REQUEST_ID: "req-9"}, "ipv4:10.0.0.1:1", 3.0)

    assert (reply.status, reply.response) == (Status.OK, b"worker answer")
    assert request_id == "req-9"
    (call,) = seen.calls
    assert (call.procedure, call.api_version, call.protocol, call.request_id) == (
        "echo",
        2,
        "jsonrpc",
        "req-9",
    )
    assert (call.peer, call.timeout) == ("ipv4:10.0.0.1:1", 3.0)
    assert call.trace is not None
    sent = {metadata.REQUEST_ID: "req-9", metadata.TRACEPARENT: call.trace.header}
    assert workers.sent == [("127.0.0.1:7001", request, sent, 3.0)]


async def test_a_received_traceparent_is_continued_and_the_worker_gets_the_sidecars_span_as_parent() -> None:
    workers = served(ProcedureInfo("echo"))
    seen = Remember()
    service = SidecarService(workers, [seen], MAX_TIMEOUT)
    received = {
        metadata.TRACEPARENT: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        metadata.TRACESTATE: "congo=t61rcWkgMzE",
    }

    await service.invoke(request_bytes("echo"), received, "ipv4:127.0.0.1:1", None)
    all_zero = {metadata.TRACEPARENT: "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}
    await service.invoke(request_bytes("echo"), all_zero, "ipv4:127.0.0.1:1", None)

    continued, fresh = (call.trace for call in seen.calls)
    assert continued is not None and fresh is not None
    assert continued.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert continued.span_id != "00f067aa0ba902b7"
    assert fresh.trace_id not in ("0" * 32, continued.trace_id)
    forwarded = workers.sent[0][2]
    assert forwarded[metadata.TRACEPARENT] == continued.header
    assert forwarded[metadata.TRACESTATE] == "congo=t61rcWkgMzE"


async def test_the_frontend_names_the_real_peer_and_the_deadline_is_capped() -> None:
    seen = Remember()
    service = SidecarService(served(ProcedureInfo("echo")), [seen], MAX_TIMEOUT)
    await service.invoke(request_bytes("echo"), {metadata.PEER: "203.0.113.5"}, "ipv4:127.0.0.1:1", None)
    await service.invoke(request_bytes("echo"), {}, "ipv4:127.0.0.1:1", 3600.0)
    assert [(c.peer, c.timeout) for c in seen.calls] == [
        ("203.0.113.5", MAX_TIMEOUT),
        ("ipv4:127.0.0.1:1", MAX_TIMEOUT),
    ]


async def test_a_call_without_a_request_id_gets_a_fresh_one() -> None:
    service = SidecarService(served(ProcedureInfo("echo")), [], MAX_TIMEOUT)
    _, first = await service.invoke(request_bytes("echo"), {}, "peer", None)
    _, second = await service.invoke(request_bytes("echo"), {}, "peer", None)
    assert len(first) == 32 and first != second


async def test_malformed_request_bytes_are_invalid_argument_and_reach_no_interceptor() -> None:
    seen = Remember()
    service = SidecarService(served(ProcedureInfo("echo")), [seen], MAX_TIMEOUT)
    reply, _ = await service.invoke(b"\x0a\xff", {}, "peer", None)
    assert reply.status is Status.INVALID_ARGUMENT
    assert seen.calls == []


async def test_an_unknown_procedure_is_not_found_without_touching_a_worker() -> None:
    workers = served(ProcedureInfo("echo"))
    reply, _ = await SidecarService(workers, [], MAX_TIMEOUT).invoke(request_bytes("nope"), {}, "peer", None)
    assert reply.status is Status.NOT_FOUND
    assert workers.sent == []


async def test_a_worker_failure_comes_back_as_its_status() -> None:
    workers = served(ProcedureInfo("echo"), answer=(Status.UNAVAILABLE, "worker unreachable"))
    reply, _ = await SidecarService(workers, [], MAX_TIMEOUT).invoke(request_bytes("echo"), {}, "peer", None)
    assert (reply.status, reply.details) == (Status.UNAVAILABLE, "worker unreachable")


async def test_the_worker_learns_the_caller_and_the_forwarded_metadata() -> None:
    workers = served(ProcedureInfo("echo"))
    call = a_call("echo", caller="ada", forward_metadata={"x-extra": "1"}, metadata={"x-other": "dropped"})
    reply = await forward_to_worker(workers)(call)
    assert reply.answered == call
    (_, _, extra, _) = workers.sent[0]
    assert extra == {"x-extra": "1", metadata.CALLER: "ada"}


async def test_the_catalogue_is_listed_by_api_version() -> None:
    workers = served(ProcedureInfo("old", versions=(1,)), ProcedureInfo("new", versions=(2,)))
    service = SidecarService(workers, [], MAX_TIMEOUT)
    assert [p.name for p in service.list_procedures(2)] == ["new"]
    assert sorted(p.name for p in service.list_procedures(0)) == ["new", "old"]
