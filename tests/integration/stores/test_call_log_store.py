"""The call log store on SQLite and PostgreSQL: exact round trips, filters, pages, retention."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from bridge.store.records import CallFilter, CallRecord
from bridge.store.sql_stores import SqlCallLogStore

T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)


def call(minute: int, **changes: object) -> CallRecord:
    """A record starting `minute` minutes after T0."""
    fields: dict[str, object] = {
        "at": T0 + datetime.timedelta(minutes=minute),
        "direction": "incoming",
        "protocol": "xmlrpc",
        "procedure": "echo",
        "outcome": "ok",
        "duration_ms": 1.5,
        "user": "alice",
        "peer": "127.0.0.1:5000",
        "request_id": f"req-{minute}",
    }
    fields.update(changes)
    return CallRecord(**fields)  # type: ignore[arg-type]


async def test_record_round_trips_exactly(call_log: SqlCallLogStore) -> None:
    """Every field, the microseconds of the start time included, reads back as written, with an id."""
    record = call(
        0,
        at=datetime.datetime(
            2024, 5, 1, 14, 0, 0, 654321, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
        ),
        direction="outgoing",
        outcome="fault",
        fault_code=-32001,
        status="UNAUTHENTICATED",
        request_bytes=120,
        response_bytes=3400,
        arguments="['x', '***']",
        result=None,
    )
    await call_log.write_many([record])
    page = await call_log.query(CallFilter())
    [stored] = page.records
    assert stored.id is not None
    assert stored == dataclasses.replace(record, id=stored.id)
    assert await call_log.get(stored.id) == stored


async def test_get_unknown_id_is_none(call_log: SqlCallLogStore) -> None:
    """Asking for an id that does not exist gives None."""
    assert await call_log.get(987654) is None


async def test_empty_batch_writes_nothing(call_log: SqlCallLogStore) -> None:
    """write_many of nothing is a no-op."""
    await call_log.write_many([])
    assert (await call_log.query(CallFilter())).total == 0


async def test_query_pages_newest_first_with_total(call_log: SqlCallLogStore) -> None:
    """Pages come newest first, with limit and offset, and the total counts every match."""
    await call_log.write_many([call(minute) for minute in range(7)])
    first = await call_log.query(CallFilter(), limit=3, offset=0)
    third = await call_log.query(CallFilter(), limit=3, offset=6)
    assert first.total == third.total == 7
    assert [record.request_id for record in first.records] == ["req-6", "req-5", "req-4"]
    assert [record.request_id for record in third.records] == ["req-0"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (CallFilter(procedure="math.add"), {"req-1"}),
        (CallFilter(user="bob"), {"req-2"}),
        (CallFilter(outcome="error"), {"req-3"}),
        (CallFilter(direction="outgoing"), {"req-4"}),
        (CallFilter(request_id="req-0"), {"req-0"}),
        (CallFilter(since=T0 + datetime.timedelta(minutes=3)), {"req-3", "req-4"}),
        (CallFilter(until=T0 + datetime.timedelta(minutes=1)), {"req-0"}),
        (CallFilter(user="alice", outcome="ok", procedure="echo", direction="incoming"), {"req-0"}),
    ],
    ids=["procedure", "user", "outcome", "direction", "request-id", "since", "until", "combined"],
)
async def test_query_filters(call_log: SqlCallLogStore, filters: CallFilter, expected: set[str]) -> None:
    """Each filter selects exactly the matching records; since is inclusive, until exclusive."""
    await call_log.write_many(
        [
            call(0),
            call(1, procedure="math.add"),
            call(2, user="bob"),
            call(3, outcome="error", status="UNAVAILABLE"),
            call(4, direction="outgoing"),
        ]
    )
    page = await call_log.query(filters)
    assert {record.request_id for record in page.records} == expected
    assert page.total == len(expected)


async def test_query_refuses_unbounded_pages(call_log: SqlCallLogStore) -> None:
    """A page size outside 1..1000 or a negative offset is refused."""
    for limit, offset in ((0, 0), (1001, 0), (10, -1)):
        with pytest.raises(ValueError, match="limit"):
            await call_log.query(CallFilter(), limit=limit, offset=offset)


async def test_purge_removes_only_older_records(call_log: SqlCallLogStore) -> None:
    """Retention deletes records older than the given days and reports how many."""
    now = T0 + datetime.timedelta(days=10)
    await call_log.write_many([call(0), call(60 * 24 * 8), call(60 * 24 * 9)])
    assert await call_log.purge_older_than(5, now=now) == 1
    assert {r.request_id for r in (await call_log.query(CallFilter())).records} == {
        f"req-{60 * 24 * 8}",
        f"req-{60 * 24 * 9}",
    }


def test_records_validate_their_fields() -> None:
    """A record with a naive time, unknown direction or unknown outcome cannot be made."""
    with pytest.raises(ValueError, match="timezone"):
        call(0, at=datetime.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="direction"):
        call(0, direction="sideways")
    with pytest.raises(ValueError, match="outcome"):
        call(0, outcome="maybe")
