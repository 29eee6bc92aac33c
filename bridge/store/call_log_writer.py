"""`CallLogWriter`: takes call records on the call path and writes them in batches behind it.

Imports asyncio and the store seams only. `record()` never awaits, never raises and never
blocks: it appends to a bounded buffer or, when the buffer is full, drops the record and counts
it. A background task writes batches; while the store fails, records stay buffered (within the
bound) and the write is retried, so a database outage costs at most the overflow, never a call.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import Final

from bridge.store.interfaces import CallLogSink
from bridge.store.records import CallRecord

log: Final = logging.getLogger(__name__)


# The batch window: what a SIGKILLed sidecar may lose (docs/auth.md), besides a batch being written.
BATCH_SIZE: Final = 1000
FLUSH_INTERVAL: Final = 0.5


class CallLogWriter:
    """Buffers call records and writes them to a `CallLogSink` (a `CallLogStore`) off the call path.

    Args:
        max_buffer: records held at most; more are dropped and counted in `dropped`.
        batch_size: records per write; a full batch is written without waiting for the interval.
            Large, because a write's cost is mostly per transaction, not per record.
        flush_interval: seconds between writes of a partial batch: how late a record may appear.
        retry_interval: seconds to wait after a failed write before trying again.
        close_timeout: seconds `aclose()` spends writing what is left before counting it dropped.
    """

    def __init__(
        self,
        store: CallLogSink,
        *,
        max_buffer: int = 10_000,
        batch_size: int = BATCH_SIZE,
        flush_interval: float = FLUSH_INTERVAL,
        retry_interval: float = 1.0,
        close_timeout: float = 5.0,
    ) -> None:
        if max_buffer < 1 or batch_size < 1:
            raise ValueError("max_buffer and batch_size must be at least 1")
        self._store = store
        self._max_buffer = max_buffer
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_interval = retry_interval
        self._close_timeout = close_timeout
        self._buffer: collections.deque[CallRecord] = collections.deque()
        self._wake = asyncio.Event()
        # One write at a time: a batch is popped only after it is written, so two concurrent
        # writers would write it twice.
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.dropped = 0
        """Records lost: refused while the buffer was full, or still unwritten at close."""
        self.written = 0
        """Records the store has accepted."""
        self.failures = 0
        """Writes that raised (each retried later)."""

    @property
    def queue_depth(self) -> int:
        """Records waiting to be written."""
        return len(self._buffer)

    def record(self, entry: CallRecord) -> None:
        """Queue one record; O(1), never awaits, never raises. Drops and counts when full or closed."""
        if self._closed or len(self._buffer) >= self._max_buffer:
            self.dropped += 1
            return
        self._buffer.append(entry)
        if len(self._buffer) >= self._batch_size:
            self._wake.set()

    async def start(self) -> None:
        """Start the background writer (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="call-log-writer")

    async def flush(self) -> bool:
        """Write everything buffered now; True when the buffer is empty afterwards."""
        async with self._writing:
            while self._buffer:
                if not await self._write_batch():
                    return False
            return True

    async def aclose(self) -> None:
        """Stop the writer, write what is left (within `close_timeout`), and count the rest dropped."""
        if self._closed:
            return
        self._closed = True
        try:
            async with asyncio.timeout(self._close_timeout):
                if self._task is not None:
                    # Cancel between writes, never during one, so no batch is both written and kept.
                    async with self._writing:
                        self._task.cancel()
                    await asyncio.wait([self._task])
                await self.flush()
        except TimeoutError:
            pass
        finally:
            if self._task is not None and not self._task.done():
                self._task.cancel()
                await asyncio.wait([self._task])
        if self._buffer:
            log.warning("call log: %d records not written at shutdown", len(self._buffer))
            self.dropped += len(self._buffer)
            self._buffer.clear()

    async def _run(self) -> None:
        """Write a batch whenever one is full or the interval passes; back off after failures."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._flush_interval):
                    await self._wake.wait()
            self._wake.clear()
            if not await self.flush():
                await asyncio.sleep(self._retry_interval)

    async def _write_batch(self) -> bool:
        """Write the oldest batch; the records leave the buffer only once the store has them."""
        batch = [self._buffer[index] for index in range(min(self._batch_size, len(self._buffer)))]
        try:
            await self._store.write_many(batch)
        except Exception as exc:  # the writer must outlive any store failure; the records stay queued
            self.failures += 1
            log.warning(
                "call log: writing %d records failed (%s: %s); %d buffered, will retry",
                len(batch),
                type(exc).__name__,
                exc,
                len(self._buffer),
            )
            return False
        for _ in batch:
            self._buffer.popleft()
        self.written += len(batch)
        return True
