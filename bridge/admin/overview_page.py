"""GET /overview: the admin console's front page, the call log's last hour or day drawn as charts."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Final

from aiohttp import web

from bridge.admin.charts import calls_chart, latency_chart, ranking_chart
from bridge.admin.console import AdminConsole
from bridge.admin.rendering import PageRenderer
from bridge.faults import STANDARD_MESSAGES
from bridge.store.records import FaultCount

# window name -> (length, bucket seconds): an hour by minute, a day by quarter hour.
WINDOWS: Final = {"hour": (datetime.timedelta(hours=1), 60), "day": (datetime.timedelta(days=1), 900)}
TOP: Final = 10


def fault_label(entry: FaultCount) -> str:
    """How the overview names a fault: its code and standard words, or the gRPC status of an error."""
    if entry.outcome == "fault" and entry.fault_code is not None:
        words = STANDARD_MESSAGES.get(entry.fault_code, "application fault")
        return f"{entry.fault_code} {words}"
    return f"error {entry.status or '?'}"


class OverviewPage:
    """GET /overview: calls per minute by outcome, p50/p99 latency, busiest procedures, commonest faults."""

    def __init__(
        self,
        console: AdminConsole,
        renderer: PageRenderer,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self._console = console
        self._renderer = renderer
        self._clock = clock

    async def show(self, request: web.Request) -> web.Response:
        """The overview of the window `?window=hour` (default) or `day`."""
        window = request.query.get("window", "hour")
        if window not in WINDOWS:
            window = "hour"
        length, bucket_seconds = WINDOWS[window]
        now = self._clock()
        # Buckets end on whole bucket boundaries, the current (partial) one last.
        epoch = int(now.timestamp())
        until = datetime.datetime.fromtimestamp(epoch - epoch % bucket_seconds + bucket_seconds, datetime.UTC)
        stats = await self._console.call_log.stats(until - length, until, bucket_seconds, TOP)
        faults = [(fault_label(entry), entry.calls) for entry in stats.faults]
        title = "last hour" if window == "hour" else "last day"
        return self._renderer.render(
            request,
            "overview.html",
            section="overview",
            window=window,
            title=title,
            stats=stats,
            calls_chart=calls_chart(stats.buckets, bucket_seconds, f"Calls per minute by outcome, {title}"),
            latency_chart=latency_chart(stats.buckets, f"Latency p50 and p99, {title}"),
            busiest_chart=ranking_chart(stats.busiest, "procedures", f"Busiest procedures, {title}"),
            faults_chart=ranking_chart(faults, "faults", f"Commonest faults, {title}"),
        )
