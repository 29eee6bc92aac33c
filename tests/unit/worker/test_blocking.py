"""Where a worker runs a plain `def`: in a thread by default, on the event loop when blocking=False."""

from __future__ import annotations

import threading

from bridge import Fault, Worker
from bridge.calls import Call, Success
from bridge.faults import INTERNAL_ERROR


def thread_id() -> int:
    """The identity of the thread this runs on."""
    return threading.get_ident()


async def test_plain_def_runs_in_a_thread_by_default() -> None:
    """A blocking procedure never runs on the loop's thread, so it cannot stall other calls."""
    worker = Worker()
    worker.procedure(name="where")(thread_id)
    outcome = await worker.run(Call("where"))
    assert isinstance(outcome, Success)
    assert outcome.value != threading.get_ident()


async def test_plain_def_declared_non_blocking_runs_on_the_loop() -> None:
    """blocking=False skips the thread hand-off: the procedure runs on the loop's own thread."""
    worker = Worker()
    worker.procedure(name="where", blocking=False)(thread_id)
    assert await worker.run(Call("where")) == Success(threading.get_ident())


async def test_non_blocking_procedure_crash_is_an_internal_error() -> None:
    """A crash in a procedure run on the loop is an internal error, as in a thread."""
    worker = Worker()

    @worker.procedure(blocking=False)
    def crash() -> None:
        raise RuntimeError("boom")

    outcome = await worker.run(Call("crash"))
    assert isinstance(outcome, Fault)
    assert outcome.code == INTERNAL_ERROR
