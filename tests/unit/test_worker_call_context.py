"""The worker SDK's `call_context()`: what a procedure learns about its call, sync or async."""

from __future__ import annotations

from bridge import CallContext, Worker, call_context
from bridge.calls import Call, Success

worker = Worker()


@worker.procedure
def sync_job_id() -> str:
    return call_context().job_id


@worker.procedure
async def async_ids() -> list[str]:
    context = call_context()
    return [context.request_id, context.job_id]


async def test_sync_procedure_sees_its_job_id_in_its_thread() -> None:
    """A blocking procedure runs on a thread and still reads the job id of its own call."""
    outcome = await worker.run(Call("sync_job_id", ()), None, CallContext("req-1", "job-1"))
    assert outcome == Success("job-1")


async def test_async_procedure_sees_request_and_job_id_and_nothing_leaks_after() -> None:
    """An async procedure reads both ids; outside a call the context is empty again."""
    outcome = await worker.run(Call("async_ids", ()), None, CallContext("req-2", "job-2"))
    assert outcome == Success(["req-2", "job-2"])
    assert call_context() == CallContext()
    assert await worker.run(Call("sync_job_id", ())) == Success("")
