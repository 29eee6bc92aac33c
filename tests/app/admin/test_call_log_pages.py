"""The call log in the console: filters, pagination (50 a page, newest first), detail, escaping."""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest

from bridge.admin.call_log_pages import field_label
from bridge.store.factory import Stores
from bridge.store.records import CallRecord
from tests.app.admin.conftest import T0, AdminClient, call_record

ROW = re.compile(r'href="/calls/(\d+)"')


def listed_ids(html: str) -> list[int]:
    """The record ids of the rows on a call-log page, top to bottom."""
    return [int(found) for found in ROW.findall(html)]


async def test_pages_of_fifty_newest_first(admin: AdminClient, stores: Stores) -> None:
    """120 calls make three pages of 50, 50 and 20, newest first, with working next/previous links."""
    await stores.call_log.write_many(
        [call_record(at=T0 + datetime.timedelta(seconds=i), request_id=f"r{i}") for i in range(120)]
    )
    first = await (await admin.get("/calls")).text()
    ids = listed_ids(first)
    assert len(ids) == 50
    assert ids == sorted(ids, reverse=True)
    assert ids[0] == 120
    assert "Calls 1–50 of 120" in first
    assert 'href="/calls?page=2"' in first
    third = await (await admin.get("/calls?page=3")).text()
    assert listed_ids(third) == list(range(20, 0, -1))
    assert 'href="/calls?page=2"' in third
    assert "page=4" not in third


async def test_page_past_the_end(admin: AdminClient, stores: Stores) -> None:
    """A page number past the last page shows no rows and a link back to the first page."""
    await stores.call_log.write_many([call_record()])
    text = await (await admin.get("/calls?page=99")).text()
    assert listed_ids(text) == []
    assert "Go to the first page" in text


MIXED = [
    {"procedure": "echo", "user": "alice", "outcome": "ok", "direction": "incoming", "at": T0},
    {
        "procedure": "math.add",
        "user": "bob",
        "outcome": "fault",
        "fault_code": 1,
        "direction": "incoming",
        "at": T0 + datetime.timedelta(hours=1),
    },
    {
        "procedure": "legacy.get",
        "user": "",
        "outcome": "error",
        "status": "UNAVAILABLE",
        "direction": "outgoing",
        "at": T0 + datetime.timedelta(hours=2),
    },
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("procedure=math.add", [2]),
        ("user=alice", [1]),
        ("outcome=error", [3]),
        ("direction=incoming", [2, 1]),
        ("since=2025-03-01T12:30", [3, 2]),
        ("until=2025-03-01T13:00", [1]),
        ("since=2025-03-01T12:00%2B00:00&until=2025-03-01T14:00:00Z", [2, 1]),
        ("procedure=echo&outcome=fault", []),
        ("request_id=req-1", [3, 2, 1]),
    ],
)
async def test_filters(admin: AdminClient, stores: Stores, query: str, expected: list[int]) -> None:
    """Each filter (and their combination) narrows the list to the matching calls; times are UTC."""
    await stores.call_log.write_many([call_record(**fields) for fields in MIXED])
    response = await admin.get(f"/calls?{query}")
    assert response.status == 200
    assert listed_ids(await response.text()) == expected


async def test_filters_survive_pagination(admin: AdminClient, stores: Stores) -> None:
    """The next-page link keeps the filters."""
    await stores.call_log.write_many([call_record(procedure="echo") for _ in range(60)])
    text = await (await admin.get("/calls?procedure=echo&outcome=ok")).text()
    assert 'href="/calls?procedure=echo&amp;outcome=ok&amp;page=2"' in text


@pytest.mark.parametrize(
    "query", ["outcome=maybe", "direction=sideways", "since=yesterday", "until=2025-13-01"]
)
async def test_invalid_filter_is_explained(admin: AdminClient, stores: Stores, query: str) -> None:
    """An unreadable filter answers 400 with what was wrong, and lists nothing."""
    await stores.call_log.write_many([call_record()])
    response = await admin.get(f"/calls?{query}")
    text = await response.text()
    assert response.status == 400
    assert 'class="message error"' in text
    assert listed_ids(text) == []


async def test_detail_shows_every_field(admin: AdminClient, stores: Stores) -> None:
    """The detail page shows each field of the record, arguments and result included."""
    record = call_record(
        procedure="math.add",
        outcome="fault",
        fault_code=-32602,
        status="OK",
        protocol="jsonrpc",
        request_bytes=321,
        response_bytes=123,
        arguments="[1, 'two']",
        result="invalid params",
        duration_ms=12.5,
        peer="10.0.0.7:5555",
        user="bob",
        request_id="req-detail",
    )
    await stores.call_log.write_many([record])
    text = await (await admin.get("/calls/1")).text()
    for shown in [
        "2025-03-01 12:00:00.000 UTC",
        "incoming",
        "jsonrpc",
        "math.add",
        "fault",
        "-32602",
        "bob",
        "10.0.0.7:5555",
        "req-detail",
        "321",
        "123",
        "12.500 ms",
        "[1, &#39;two&#39;]",
        "invalid params",
    ]:
        assert shown in text, shown
    for field in dataclasses.fields(CallRecord):
        assert f"<dt>{field_label(field.name)}</dt>" in text, field.name


@pytest.mark.parametrize("path", ["/calls/999", "/calls/99999999999999999999999"])
async def test_missing_call_is_404(admin: AdminClient, path: str) -> None:
    """A call id the log does not hold (however large) answers 404."""
    assert (await admin.get(path)).status == 404


HOSTILE = "<script>alert('pwned')</script>"


async def test_hostile_values_are_escaped(admin: AdminClient, stores: Stores) -> None:
    """A procedure name, user and arguments holding <script> are shown as text, never as markup."""
    await stores.call_log.write_many(
        [call_record(procedure=HOSTILE, user='x"><img src=x onerror=alert(1)>', arguments=HOSTILE)]
    )
    for path in ["/calls", "/calls/1", "/calls?procedure=" + HOSTILE]:
        text = await (await admin.get(path)).text()
        assert "<script>" not in text, path
        assert "<img" not in text, path
        assert "&lt;script&gt;" in text, path
