"""A crashing procedure: the client gets -32603 only; the worker logs the traceback with the request id."""

from __future__ import annotations

import logging

import pytest

from bridge import CallContext, Worker, metadata
from bridge.calls import Call
from bridge.errors import Fault
from bridge.faults import INTERNAL_ERROR
from bridge.rpc.values import call_to_request, response_to_outcome
from bridge.rpc.worker_server import WorkerService

worker = Worker()


@worker.procedure
def explode(secret: str) -> str:
    raise RuntimeError(f"database password is {secret}")


async def test_the_client_sees_an_internal_error_without_the_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        outcome = await worker.run(Call("explode", ("hunter2",)), context=CallContext(request_id="req-42"))
    assert isinstance(outcome, Fault)
    assert outcome.code == INTERNAL_ERROR
    assert "hunter2" not in repr(outcome.value) and "Traceback" not in repr(outcome.value)


async def test_the_traceback_is_logged_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        await worker.run(Call("explode", ("x",)), context=CallContext(request_id="req-42"))
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "req-42" in record.getMessage() and "explode" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


async def test_the_worker_server_passes_the_calls_request_id_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = WorkerService(worker)
    request = call_to_request(Call("explode", ("x",)))
    with caplog.at_level(logging.ERROR):
        response = await service._respond(request, {metadata.REQUEST_ID: "req-from-frontend"})
    assert response_to_outcome(response) == Fault(INTERNAL_ERROR, "Internal error")
    assert any("req-from-frontend" in r.getMessage() and r.exc_info for r in caplog.records)
