"""CPU per call of the bridge's own Python on each hop, in one process, without sockets.

`python -m benchmarks.per_call [calls [repeats [hop]]]`: the frontend's path from a request body to
a reply body (context, codec, Call -> InvokeRequest, metadata, StreamedCall, response -> Outcome, metrics) and
the sidecar's path through its interceptor chain with the call log and metrics on (a fake worker
answers at once). Prints the best of several repeats in µs of process CPU time per call. For
instruction counts, run one hop under `valgrind --tool=callgrind` at two call counts, one repeat
each: the difference in instructions over the difference in calls is the cost of one call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp.test_utils import make_mocked_request

from benchmarks.payloads import TOKEN
from bridge.calls import Call, CallContext, Success
from bridge.errors import Status
from bridge.frontend.call_context import context_for
from bridge.frontend.dispatch import Dispatcher
from bridge.frontend.metrics import FrontendMetrics
from bridge.frontend.request_log import REQUEST_ID
from bridge.frontend.xmlrpc_endpoint import XMLRPC
from bridge.observability import configure_logging
from bridge.procedures import ProcedureInfo
from bridge.rpc.invoke_codec import outcome_bytes
from bridge.rpc.sidecar_client import SidecarClient
from bridge.rpc.values import call_to_request
from bridge.settings import Settings
from bridge.sidecar.call_recording import RecordCalls
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.interception import Interceptor
from bridge.sidecar.metrics import SidecarMetrics
from bridge.sidecar.observation import ObserveCalls, SummarySink, write_access_line
from bridge.sidecar.service import SidecarService
from bridge.store.records import CallRecord
from rpcbridge.v1 import worker_pb2

XML_BODY = (
    '<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param>'
    f"<value><string>{TOKEN}</string></value></param></params></methodCall>"
).encode()
ANSWER = outcome_bytes(Success(TOKEN))


class _Stream:
    """Stands in for `StreamInvoker`: builds the StreamedCall a real session would queue."""

    async def invoke(self, request: bytes, metadata: Mapping[str, str], deadline: float | None) -> bytes:
        worker_pb2.StreamedCall(id=1, request=request, metadata=metadata, timeout_seconds=deadline or 0.0)
        return ANSWER


def _frontend() -> Callable[[], Awaitable[None]]:
    settings = Settings().frontend
    client = object.__new__(SidecarClient)
    client._invoker = _Stream()  # type: ignore[assignment]
    dispatcher = Dispatcher(client, settings.limits)
    metrics = FrontendMetrics()
    request = make_mocked_request("POST", "/RPC2", headers={"Content-Type": "text/xml"})
    request[REQUEST_ID] = "0123456789abcdef0123456789abcdef"

    async def one() -> None:
        started = time.perf_counter()
        context = context_for(request, "xmlrpc", settings)
        assert isinstance(context, CallContext)
        exchange = await XMLRPC.exchange(XML_BODY, context, dispatcher)
        metrics.observe("xmlrpc", exchange.outcomes, exchange.faulted, time.perf_counter() - started)

    return one


class _Workers:
    def __init__(self) -> None:
        self.catalogue = Catalogue()
        self.catalogue.update("worker", [ProcedureInfo(name="echo")])

    async def invoke(
        self, address: str, request: bytes, extra: Sequence[tuple[str, str]], deadline: float | None
    ) -> bytes:
        worker_pb2.StreamedCall(id=1, request=request, metadata=dict(extra), timeout_seconds=deadline or 0.0)
        return ANSWER


def _sidecar() -> Callable[[], Awaitable[None]]:
    workers = _Workers()
    metrics = SidecarMetrics()
    records: list[CallRecord] = []

    def keep(entry: CallRecord) -> None:
        records.append(entry)

    sinks: list[SummarySink] = [
        write_access_line,
        metrics.observe,
        RecordCalls(keep, workers.catalogue.describe),
    ]
    interceptors: list[Interceptor] = [ObserveCalls(sinks)]
    service = SidecarService(workers, interceptors, 60.0)
    request = call_to_request(Call("echo", (TOKEN,)), 0, "xmlrpc").SerializeToString()
    wire = worker_pb2.StreamedCall(
        id=1,
        request=request,
        metadata={"x-request-id": "0123456789abcdef0123456789abcdef", "rpcbridge-peer": "127.0.0.1"},
        timeout_seconds=30.0,
    ).SerializeToString()

    async def one() -> None:
        streamed = worker_pb2.StreamedCall.FromString(wire)
        reply, _ = await service.invoke(streamed.request, streamed.metadata, "ipv4:127.0.0.1:1", 30.0)
        worker_pb2.StreamedResult(id=streamed.id, response=reply.response, status=reply.status, details="")
        records.clear()
        assert reply.status is Status.OK

    return one


async def _measure(one: Callable[[], Awaitable[None]], calls: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(calls):
            await one()
        best = min(best, (time.process_time() - started) / calls)
    return best * 1e6


def main(argv: Sequence[str]) -> None:
    """Print µs of CPU per call for the frontend's and the sidecar's Python per-call path."""
    calls = int(argv[0]) if argv else 5000
    repeats = int(argv[1]) if len(argv) > 1 else 7
    hops = {"frontend": _frontend, "sidecar": _sidecar}
    if len(argv) > 2:
        hops = {argv[2]: hops[argv[2]]}
    configure_logging("INFO", "bench")
    # The access line is written as in production, to a file nobody reads.
    handler: Any = logging.getLogger().handlers[0]
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 -- lives as long as the process
    for name, build in hops.items():
        cost = asyncio.run(_measure(build(), calls, repeats))
        print(f"{name}: {cost:.1f} µs CPU per call (best of {repeats})")


if __name__ == "__main__":
    main(sys.argv[1:])
