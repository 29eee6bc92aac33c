"""The call log's overview statistics on SQLite and PostgreSQL: buckets, percentiles, top procedures."""

from __future__ import annotations

import datetime

import pytest

from bridge.store.records import FaultCount
from bridge.store.sql_stores import SqlCallLogStore
from tests.integration.stores.test_call_log_store import T0, call

HOUR = datetime.timedelta(hours=1)


async def test_traffic_is_counted_by_minute_and_outcome_with_nearest_rank_percentiles(
    call_log: SqlCallLogStore,
) -> None:
    """Calls land in their minute's bucket by outcome; p50/p99 are each bucket's nearest-rank durations."""
    records = [call(0, duration_ms=float(ms), request_id=f"a{ms}") for ms in range(1, 101)]
    records += [
        call(2, outcome="fault", fault_code=-32601, duration_ms=5.0),
        call(2, outcome="error", status="UNAVAILABLE", duration_ms=7.0),
        call(2, direction="outgoing", duration_ms=1000.0),  # outgoing calls are not the bridge's traffic
        call(61, duration_ms=9.0),  # after the window
    ]
    await call_log.write_many(records)

    stats = await call_log.stats(T0, T0 + HOUR, 60)

    assert len(stats.buckets) == 60
    first, _, third = stats.buckets[:3]
    assert (first.start, first.ok, first.fault, first.error) == (T0, 100, 0, 0)
    assert (first.p50_ms, first.p99_ms) == (50.0, 99.0)
    assert (third.ok, third.fault, third.error, third.p50_ms, third.p99_ms) == (0, 1, 1, 5.0, 7.0)
    assert stats.buckets[1].calls == 0 and stats.buckets[1].p50_ms is None
    assert stats.calls == 102


async def test_busiest_procedures_and_commonest_faults_come_first(call_log: SqlCallLogStore) -> None:
    """Procedures by call count, faults by code or status, most frequent first, at most `top` of each."""
    await call_log.write_many(
        [call(1, procedure="a", request_id=f"a{i}") for i in range(3)]
        + [call(1, procedure="b", outcome="fault", fault_code=-32602) for _ in range(2)]
        + [call(1, procedure="c", outcome="error", status="DEADLINE_EXCEEDED")]
        + [call(1, procedure="d", outcome="fault", fault_code=-32602)]
    )

    stats = await call_log.stats(T0, T0 + HOUR, 300, top=2)

    assert stats.busiest == (("a", 3), ("b", 2))
    assert stats.faults == (
        FaultCount("fault", -32602, "", 3),
        FaultCount("error", None, "DEADLINE_EXCEEDED", 1),
    )
    assert len(stats.buckets) == 12


async def test_an_empty_window_has_empty_buckets_and_bad_arguments_are_refused(
    call_log: SqlCallLogStore,
) -> None:
    """No calls: zero everywhere; a zero bucket or an empty window is a ValueError."""
    stats = await call_log.stats(T0, T0 + HOUR, 900)
    assert [bucket.calls for bucket in stats.buckets] == [0, 0, 0, 0]
    assert stats.busiest == () and stats.faults == ()
    with pytest.raises(ValueError, match="bucket_seconds"):
        await call_log.stats(T0, T0 + HOUR, 0)
    with pytest.raises(ValueError, match="until"):
        await call_log.stats(T0, T0, 60)
