"""The worker SDK's hooks: declared with a whitelist, emitted from sync and async procedures."""

from __future__ import annotations

import asyncio
import datetime
import threading

import pytest

from bridge import EmitError, Worker
from bridge.calls import Call, Success
from bridge.errors import ConfigError, Fault
from bridge.procedures import HookInfo


def make_worker() -> Worker:
    worker = Worker()
    saved = worker.hook("person.saved", provides=["name", "address"], help="A person was saved.")

    @worker.procedure
    def save(name: str, secret: str) -> str:
        saved.emit({"name": name, "address": {"city": "Berlin", "pin": "1"}, "secret": secret})
        return threading.current_thread().name

    @worker.procedure
    async def save_async(name: str) -> bool:
        worker.emit("person.saved", {"name": name, "secret": "s"})
        worker.emit("person.saved", {"secret": "only"})
        return True

    @worker.procedure
    def save_then_fail(name: str) -> None:
        saved.emit({"name": name})
        raise Fault(7, "no")

    @worker.procedure
    def emit_unknown() -> None:
        worker.emit("person.deleted", {"name": "x"})

    return worker


def run(
    worker: Worker, procedure: str, *params: object
) -> tuple[object, list[tuple[str, dict[str, object]]]]:
    outcome, events = asyncio.run(worker.run_emitting(Call(procedure, params)))
    return outcome, [(e.type, dict(e.data)) for e in events]


def test_sync_procedure_emits_from_its_thread_and_only_provided_fields_leave() -> None:
    """A sync procedure (in a thread) emits; `secret`, not provided, is dropped; nested data is kept whole."""
    outcome, events = run(make_worker(), "save", "Jo", "hunter2")
    assert isinstance(outcome, Success) and outcome.value != threading.main_thread().name
    assert events == [("person.saved", {"name": "Jo", "address": {"city": "Berlin", "pin": "1"}})]


def test_async_procedure_emits_in_order_through_worker_emit() -> None:
    """`worker.emit(name, data)` from an async procedure is the hook's emit; events keep their order."""
    worker = make_worker()
    outcome, events = run(worker, "save_async", "Ann")
    assert outcome == Success(True)
    assert events == [("person.saved", {"name": "Ann"}), ("person.saved", {})]


def test_events_travel_with_a_fault_too() -> None:
    """What was emitted before a fault is still sent: the worker said it happened."""
    outcome, events = run(make_worker(), "save_then_fail", "Jo")
    assert isinstance(outcome, Fault) and outcome.code == 7
    assert events == [("person.saved", {"name": "Jo"})]


def test_undeclared_hook_raises_and_the_call_fails_without_events() -> None:
    """Emitting a hook nobody declared raises EmitError in the procedure (the client sees -32603)."""
    outcome, events = run(make_worker(), "emit_unknown")
    assert isinstance(outcome, Fault) and outcome.code == -32603
    assert events == []
    with pytest.raises(EmitError, match=r"no hook 'person\.deleted'"):
        make_worker().emit("person.deleted", {})


def test_emit_outside_a_call_is_refused() -> None:
    """An emit with no call running has no reply to travel with: EmitError, nothing queued."""
    worker = Worker()
    hook = worker.hook("tick", provides=["n"])
    with pytest.raises(EmitError, match="only possible while a procedure call runs"):
        hook.emit({"n": 1})


def test_emit_after_the_call_returned_is_refused() -> None:
    """A task a procedure left behind cannot add events to a reply that has already gone."""
    worker = Worker()
    hook = worker.hook("tick", provides=["n"])
    late: list[BaseException] = []

    @worker.procedure
    async def spawn() -> None:
        async def later() -> None:
            await asyncio.sleep(0)
            try:
                hook.emit({"n": 1})
            except EmitError as exc:
                late.append(exc)

        asyncio.get_running_loop().create_task(later())

    async def main() -> list[object]:
        _, events = await worker.run_emitting(Call("spawn", ()))
        await asyncio.sleep(0.01)
        return list(events)

    assert asyncio.run(main()) == []
    assert len(late) == 1


def test_hooks_are_described_and_validated() -> None:
    """hooks() lists declarations in order; duplicates, a bare string as provides, non-structs are refused."""
    worker = Worker()
    worker.hook("a.b", provides=["x"], auth=True, help="h")
    worker.hook("c")
    assert worker.hooks() == [HookInfo("a.b", ("x",), "h", True), HookInfo("c")]
    with pytest.raises(ConfigError, match="twice"):
        worker.hook("c")
    with pytest.raises(ConfigError, match="list of field names"):
        worker.hook("d", provides="name")
    hook = worker.hook("e", provides=["x"])
    with pytest.raises(EmitError, match="mapping"):
        hook.emit(["x"])  # type: ignore[arg-type]


def test_emitted_timestamps_are_aware_utc() -> None:
    """Each event carries the UTC time it was emitted."""
    _, events = asyncio.run(make_worker().run_emitting(Call("save_async", ("Ann",))))
    assert all(e.timestamp.tzinfo is datetime.UTC for e in events)
