"""CallLogWriter: batching off the call path, surviving store failures, bounded buffering, shutdown."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bridge.store.call_log_writer import CallLogWriter
from bridge.store.interfaces import StoreUnavailable
from bridge.store.records import CallFilter, CallRecord
from bridge.store.sql_stores import SqlCallLogStore

HOUR = 3600.0  # an interval that never elapses during a test, so only batch size or flush can write


def record(index: int) -> CallRecord:
    return CallRecord(
        at=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=index),
        direction="incoming",
        protocol="jsonrpc",
        procedure="echo",
        outcome="ok",
        duration_ms=0.5,
        request_id=f"req-{index}",
    )


@dataclass
class FakeCallLog:
    """Keeps written batches; fails while `failing` is positive (counting down), or always if negative."""

    batches: list[list[CallRecord]] = field(default_factory=list)
    failing: int = 0
    gate: asyncio.Event | None = None

    async def write_many(self, records: Sequence[CallRecord]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            self.failing -= 1 if self.failing > 0 else 0
            raise StoreUnavailable("database is down")
        self.batches.append(list(records))

    @property
    def written(self) -> list[str]:
        return [r.request_id for batch in self.batches for r in batch]


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (bounded) for a condition the background task will make true."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 -- polls the writer's public counters; no event exists
            await asyncio.sleep(0.01)


async def closing(writer: CallLogWriter, body: Callable[[], Awaitable[None]]) -> None:
    await writer.start()
    try:
        await body()
    finally:
        await writer.aclose()


async def test_full_batch_is_written_without_waiting_for_the_interval() -> None:
    """Reaching batch_size wakes the writer, which writes the records in batches of that size."""
    store = FakeCallLog()
    writer = CallLogWriter(store, batch_size=10, flush_interval=HOUR)

    async def body() -> None:
        for index in range(25):
            writer.record(record(index))
        await until(lambda: writer.written >= 20)
        assert [len(batch) for batch in store.batches][:2] == [10, 10]

    await closing(writer, body)
    assert store.written == [f"req-{i}" for i in range(25)]


async def test_partial_batch_is_written_after_the_interval() -> None:
    """Fewer records than a batch are written when the flush interval passes."""
    store = FakeCallLog()
    writer = CallLogWriter(store, batch_size=100, flush_interval=0.05)

    async def body() -> None:
        for index in range(3):
            writer.record(record(index))
        await until(lambda: writer.written == 3)
        assert writer.queue_depth == 0

    await closing(writer, body)


async def test_records_survive_a_failing_store_and_are_written_in_order() -> None:
    """While the store fails, records stay queued and failures are counted; later all are written once."""
    store = FakeCallLog(failing=3)
    writer = CallLogWriter(store, batch_size=5, flush_interval=0.01, retry_interval=0.01)

    async def body() -> None:
        for index in range(12):
            writer.record(record(index))
        await until(lambda: writer.written == 12)

    await closing(writer, body)
    assert writer.failures == 3
    assert store.written == [f"req-{i}" for i in range(12)]
    assert writer.dropped == 0


async def test_overflow_is_dropped_and_counted() -> None:
    """Beyond max_buffer, record() drops new records and counts them, never raising or blocking."""
    store = FakeCallLog(failing=-1)
    writer = CallLogWriter(store, max_buffer=10, batch_size=4, flush_interval=HOUR, close_timeout=0.5)
    for index in range(15):
        writer.record(record(index))
    assert (writer.queue_depth, writer.dropped) == (10, 5)
    await writer.aclose()
    assert (writer.queue_depth, writer.dropped, store.batches) == (0, 15, [])


async def test_close_writes_what_is_left() -> None:
    """aclose() writes records still buffered; records after close are counted as dropped."""
    store = FakeCallLog()
    writer = CallLogWriter(store, batch_size=100, flush_interval=HOUR)
    await writer.start()
    for index in range(7):
        writer.record(record(index))
    await writer.aclose()
    writer.record(record(99))
    assert (store.written, writer.dropped) == ([f"req-{i}" for i in range(7)], 1)


async def test_concurrent_flushes_write_each_record_once() -> None:
    """A flush() while the background writer is mid-write does not write the same batch twice."""
    gate = asyncio.Event()
    store = FakeCallLog(gate=gate)
    writer = CallLogWriter(store, batch_size=3, flush_interval=HOUR)

    async def body() -> None:
        for index in range(3):
            writer.record(record(index))
        await asyncio.sleep(0)
        extra = asyncio.create_task(writer.flush())
        await asyncio.sleep(0.01)
        gate.set()
        assert await extra is True

    await closing(writer, body)
    assert store.written == ["req-0", "req-1", "req-2"]


async def test_writer_lands_records_in_a_real_store(call_log: SqlCallLogStore) -> None:
    """Records given to the writer end up queryable in SQLite and PostgreSQL."""
    writer = CallLogWriter(call_log, batch_size=50, flush_interval=0.05)

    async def body() -> None:
        for index in range(120):
            writer.record(record(index))
        await until(lambda: writer.written == 120)

    await closing(writer, body)
    page = await call_log.query(CallFilter(), limit=1)
    assert (page.total, page.records[0].request_id) == (120, "req-119")
