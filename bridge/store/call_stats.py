"""The admin overview's call-log queries: traffic by time bucket, busiest procedures, commonest faults.

One SQL text for SQLite and PostgreSQL but for the bucket expression (times are integer microseconds
in SQLite, TIMESTAMPTZ in PostgreSQL). Imports only the store seams.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Final

from bridge.store.database import Database
from bridge.store.records import CallStats, FaultCount, TrafficBucket

# Bucket number of a row: whole buckets since $1; $3 is the bucket's length in the dialect's unit.
_BUCKET: Final[Mapping[str, str]] = {
    "sqlite": "((called_at - $1) / $3)",
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM (called_at - $1)) / $3) AS BIGINT)",
}
_WINDOW: Final = "direction = 'incoming' AND called_at >= $1 AND called_at < $2"
# Nearest-rank percentiles (rank = ceil(p * n / 100)) in integer arithmetic, alike in both dialects.
_RANK_50: Final = "(50 * size + 99) / 100"
_RANK_99: Final = "(99 * size + 99) / 100"


def _nearest_rank(percent: int, size: int) -> int:
    return (percent * size + 99) // 100


async def call_stats(
    db: Database, since: datetime.datetime, until: datetime.datetime, bucket_seconds: int, top: int
) -> CallStats:
    """Incoming calls over [since, until): per bucket outcomes and p50/p99; top procedures and faults."""
    if bucket_seconds < 1 or top < 1 or until <= since:
        raise ValueError("bucket_seconds and top must be at least 1, and until after since")
    bucket = _BUCKET[db.dialect]
    length: Any = bucket_seconds * 1_000_000 if db.dialect == "sqlite" else float(bucket_seconds)
    window = (db.encode_time(since), db.encode_time(until), length)
    # The S608 exemptions: SQL assembled only from the constants above; values are bound parameters.
    async with db.session() as session:
        counted = await session.fetch(
            f"SELECT {bucket} AS bucket, outcome, COUNT(*) AS calls FROM call_log"  # noqa: S608
            f" WHERE {_WINDOW} GROUP BY 1, outcome",
            *window,
        )
        ranked = await session.fetch(
            "SELECT bucket, duration_ms, position, size FROM ("  # noqa: S608
            f"SELECT {bucket} AS bucket, duration_ms,"
            f" ROW_NUMBER() OVER (PARTITION BY {bucket} ORDER BY duration_ms) AS position,"
            f" COUNT(*) OVER (PARTITION BY {bucket}) AS size"
            f" FROM call_log WHERE {_WINDOW}) ranked"
            f" WHERE position = {_RANK_50} OR position = {_RANK_99}",
            *window,
        )
        busiest = await session.fetch(
            f"SELECT procedure, COUNT(*) AS calls FROM call_log WHERE {_WINDOW}"  # noqa: S608
            " GROUP BY procedure ORDER BY calls DESC, procedure LIMIT $3",
            *window[:2],
            top,
        )
        faults = await session.fetch(
            "SELECT outcome, fault_code, status, COUNT(*) AS calls FROM call_log"  # noqa: S608
            f" WHERE {_WINDOW} AND outcome <> 'ok' GROUP BY outcome, fault_code, status"
            " ORDER BY calls DESC, outcome, fault_code, status LIMIT $3",
            *window[:2],
            top,
        )
    count = -(-int((until - since).total_seconds()) // bucket_seconds)
    outcomes: dict[int, dict[str, int]] = {}
    for row in counted:
        outcomes.setdefault(int(row["bucket"]), {})[row["outcome"]] = int(row["calls"])
    percentiles: dict[int, dict[str, float]] = {}
    for row in ranked:
        found = percentiles.setdefault(int(row["bucket"]), {})
        size, position = int(row["size"]), int(row["position"])
        if position == _nearest_rank(50, size):
            found["p50"] = float(row["duration_ms"])
        if position == _nearest_rank(99, size):
            found["p99"] = float(row["duration_ms"])
    step = datetime.timedelta(seconds=bucket_seconds)
    buckets = tuple(
        TrafficBucket(
            start=since + index * step,
            ok=outcomes.get(index, {}).get("ok", 0),
            fault=outcomes.get(index, {}).get("fault", 0),
            error=outcomes.get(index, {}).get("error", 0),
            p50_ms=percentiles.get(index, {}).get("p50"),
            p99_ms=percentiles.get(index, {}).get("p99"),
        )
        for index in range(count)
    )
    return CallStats(
        since=since,
        until=until,
        bucket_seconds=bucket_seconds,
        buckets=buckets,
        busiest=tuple((row["procedure"], int(row["calls"])) for row in busiest),
        faults=tuple(
            FaultCount(row["outcome"], row["fault_code"], row["status"], int(row["calls"])) for row in faults
        ),
    )
