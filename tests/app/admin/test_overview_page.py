"""The overview, the console's front page: the call log's last hour and day as inline SVG charts."""

from __future__ import annotations

import datetime
import re

from bridge.store.factory import Stores
from tests.app.admin.conftest import AdminClient, call_record

HOSTILE = '<script>alert("x")</script>'


def now_minus(minutes: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)


async def test_the_console_opens_on_the_overview(admin: AdminClient) -> None:
    """/ leads to /overview, which the navigation names first."""
    response = await admin.get("/")
    assert response.url.path == "/overview"
    assert '<a href="/overview" aria-current="page">Overview</a>' in await response.text()


async def test_charts_show_the_calls_of_the_last_hour(admin: AdminClient, stores: Stores) -> None:
    """Bars count calls by outcome, the rankings name the busiest procedure and the commonest fault."""
    at = now_minus(2)
    await stores.call_log.write_many(
        [call_record(at=at, procedure="echo", duration_ms=float(ms)) for ms in (1, 2, 3)]
        + [call_record(at=at, procedure="math.add", outcome="fault", fault_code=-32601)]
        + [call_record(at=now_minus(24 * 60), procedure="too.old")]
    )
    page = await (await admin.get("/overview")).text()

    assert 'data-total="4"' in page
    assert re.search(r'<rect class="bar ok" data-outcome="ok" data-count="3"', page)
    assert re.search(r'<rect class="bar fault" data-outcome="fault" data-count="1"', page)
    assert '<g class="row" data-name="echo" data-count="3">' in page
    assert '<g class="row" data-name="-32601 Method not found" data-count="1">' in page
    # Durations 1, 1.25 (the fault), 2 and 3 ms: nearest ranks 2 and 4.
    assert 'data-percentile="p50" data-ms="1.250"' in page
    assert 'data-percentile="p99" data-ms="3.000"' in page
    assert "too.old" not in page
    assert "<script" not in page and "style=" not in page


async def test_the_day_window_counts_older_calls_and_names_are_escaped(
    admin: AdminClient, stores: Stores
) -> None:
    """?window=day reaches back a day in quarter hours; a hostile procedure name is shown as text."""
    await stores.call_log.write_many(
        [
            call_record(at=now_minus(20 * 60), procedure=HOSTILE),
            call_record(at=now_minus(3), procedure="echo"),
        ]
    )
    page = await (await admin.get("/overview?window=day")).text()
    assert 'data-total="2"' in page
    assert page.count('<rect class="bar ok"') == 2
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert (await (await admin.get("/overview?window=nonsense")).text()).count("Last hour") >= 1
