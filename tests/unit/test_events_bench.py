"""The events bench's arithmetic and its reading of a stopped bridge's outbox (no load, no timing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks import events_bench
from benchmarks.load import LoadResult
from benchmarks.measure import Measurement


def _row(variant: str, requests: int, cpu_share: float) -> Measurement:
    load = LoadResult(requests, 10.0, 1.0, 2.0, 3.0, 0, 0, 0, 0.1)
    return Measurement(events_bench.KEY, variant, True, variant, "JSON-RPC", load, {"sidecar": cpu_share})


def _store(scratch: Path) -> None:
    database = events_bench.data_dir(scratch, events_bench.EMITTING_NAME) / events_bench.STORE_FILE
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as store:
        store.execute("CREATE TABLE events (id TEXT)")
        store.execute("CREATE TABLE webhook_deliveries (id TEXT, state TEXT)")
        store.executemany("INSERT INTO events VALUES (?)", [("e1",), ("e2",), ("e3",)])
        rows = [("d1", "delivered"), ("d2", "delivered"), ("d3", "pending")]
        store.executemany("INSERT INTO webhook_deliveries VALUES (?, ?)", rows)
    store.close()


def test_outbox_counts_events_and_deliveries_by_state(tmp_path: Path) -> None:
    _store(tmp_path)
    database = events_bench.data_dir(tmp_path, events_bench.EMITTING_NAME) / events_bench.STORE_FILE
    assert events_bench.read_outbox(database) == events_bench.Outbox(3, {"delivered": 2, "pending": 1})


def test_no_store_no_outbox(tmp_path: Path) -> None:
    assert events_bench.read_outbox(tmp_path / "missing.sqlite3") is None


def test_ratio_is_emitting_over_quiet_and_names_the_deliveries(tmp_path: Path) -> None:
    _store(tmp_path)
    quiet = _row(events_bench.QUIET_VARIANT, 10_000, 0.5)  # 500 µs per call
    emitting = _row(events_bench.EMITTING_VARIANT, 5_000, 1.0)  # 2000 µs per call
    (ratio,) = events_bench.ratios([quiet, emitting], tmp_path)
    assert (ratio.cpu, ratio.throughput) == (4.0, 0.5)
    assert "3 events committed" in str(ratio)
    assert "delivered 2, pending 1" in str(ratio)


def test_no_ratio_without_both_rows(tmp_path: Path) -> None:
    assert events_bench.ratios([_row(events_bench.QUIET_VARIANT, 10, 0.5)], tmp_path) == []
