"""Server-rendered inline SVG charts of the call log's statistics for the admin overview.

No scripts, no inline styles (the Content-Security-Policy forbids both): shapes carry classes that
`static/admin.css` colours, a `<title>` a browser shows on hover, and `data-*` attributes with the
numbers they draw. Every text is escaped. Imports markupsafe (Jinja2's) and the store's records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

from bridge.store.records import TrafficBucket

WIDTH: Final = 720
HEIGHT: Final = 180
_LEFT: Final = 64  # room for the y-axis labels
_BOTTOM: Final = 20  # room for the x-axis labels
OUTCOMES: Final = ("ok", "fault", "error")


def _svg(label: str, kind: str, body: list[str], height: int = HEIGHT, width: int = WIDTH) -> Markup:
    # Every client-supplied text (procedure names) in `body` went through escape() where it was made.
    return Markup(  # noqa: S704
        f'<svg class="chart" data-chart="{escape(kind)}" role="img" aria-label="{escape(label)}"'
        f' viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _number(value: float) -> str:
    return f"{value:.3g}" if value < 10 else f"{value:,.0f}"


def _axis(top: float, plot_height: int, unit: str) -> list[str]:
    """The y-axis: a baseline, and the top value as a label."""
    base = HEIGHT - _BOTTOM
    return [
        f'<line class="axis" x1="{_LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/>',
        f'<line class="grid" x1="{_LEFT}" y1="{base - plot_height}" x2="{WIDTH}" y2="{base - plot_height}"/>',
        f'<text class="tick" x="{_LEFT - 6}" y="{base - plot_height + 4}" text-anchor="end">'
        f"{escape(_number(top))}{escape(unit)}</text>",
        f'<text class="tick" x="{_LEFT - 6}" y="{base + 4}" text-anchor="end">0</text>',
    ]


def _time_labels(buckets: Sequence[TrafficBucket], step: float) -> list[str]:
    """Times under the first, middle and last buckets, kept inside the chart."""
    last = len(buckets) - 1
    shown = sorted({0, len(buckets) // 2, last}) if buckets else []
    anchors = {0: "start", last: "end"}
    return [
        f'<text class="tick" x="{_LEFT + index * step + step / 2:.1f}" y="{HEIGHT - 4}"'
        f' text-anchor="{anchors.get(index, "middle")}">{buckets[index].start:%H:%M}</text>'
        for index in shown
    ]


def calls_chart(buckets: Sequence[TrafficBucket], bucket_seconds: int, label: str) -> Markup:
    """Calls per minute by outcome: one stacked bar per bucket."""
    minutes = bucket_seconds / 60
    plot_height = HEIGHT - _BOTTOM - 10
    top = max((bucket.calls / minutes for bucket in buckets), default=0.0) or 1.0
    step = (WIDTH - _LEFT) / max(len(buckets), 1)
    body = _axis(top, plot_height, "/min")
    for index, bucket in enumerate(buckets):
        x = _LEFT + index * step
        y = float(HEIGHT - _BOTTOM)
        for outcome in OUTCOMES:
            count: int = getattr(bucket, outcome)
            if not count:
                continue
            height = count / minutes / top * plot_height
            y -= height
            tip = f"{bucket.start:%Y-%m-%d %H:%M} UTC: {count} {outcome} ({count / minutes:.3g}/min)"
            body.append(
                f'<rect class="bar {outcome}" data-outcome="{outcome}" data-count="{count}"'
                f' data-start="{bucket.start.isoformat()}" x="{x + 0.5:.1f}" y="{y:.1f}"'
                f' width="{max(step - 1, 1):.1f}" height="{height:.1f}"><title>{escape(tip)}</title></rect>'
            )
    return _svg(label, "calls", body + _time_labels(buckets, step))


def latency_chart(buckets: Sequence[TrafficBucket], label: str) -> Markup:
    """p50 and p99 latency per bucket, as two lines with a marked point per bucket that had calls."""
    plot_height = HEIGHT - _BOTTOM - 10
    values = [b.p99_ms for b in buckets if b.p99_ms is not None]
    top = max(values, default=0.0) or 1.0
    step = (WIDTH - _LEFT) / max(len(buckets), 1)
    body = _axis(top, plot_height, " ms")
    for name in ("p50", "p99"):
        points = []
        for index, bucket in enumerate(buckets):
            value = getattr(bucket, f"{name}_ms")
            if value is None:
                continue
            x = _LEFT + index * step + step / 2
            y = HEIGHT - _BOTTOM - value / top * plot_height
            points.append(f"{x:.1f},{y:.1f}")
            tip = f"{bucket.start:%Y-%m-%d %H:%M} UTC: {name} {value:.3f} ms"
            body.append(
                f'<circle class="point {name}" data-percentile="{name}" data-ms="{value:.3f}"'
                f' data-start="{bucket.start.isoformat()}" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if len(points) > 1:
            body.append(f'<polyline class="line {name}" points="{" ".join(points)}"/>')
    return _svg(label, "latency", body + _time_labels(buckets, step))


def ranking_chart(rows: Sequence[tuple[str, int]], kind: str, label: str) -> Markup:
    """Horizontal bars, largest first: the busiest procedures or the commonest faults."""
    row_height = 22
    height = max(len(rows), 1) * row_height + 4
    top = max((count for _, count in rows), default=0) or 1
    text_width = 200
    width = WIDTH * 2 // 3  # drawn half the page wide: a narrower canvas keeps the text legible
    body: list[str] = []
    for index, (name, count) in enumerate(rows):
        y = index * row_height + 2
        length = count / top * (width - text_width - 50)
        body.append(
            f'<g class="row" data-name="{escape(name)}" data-count="{count}">'
            f"<title>{escape(name)}: {count} calls</title>"
            f'<text class="label" x="{text_width - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(name[:32])}</text>"
            f'<rect class="bar {kind}" x="{text_width}" y="{y + 3}" width="{max(length, 1):.1f}"'
            f' height="{row_height - 6}"/>'
            f'<text class="value" x="{text_width + length + 6:.1f}" y="{y + 15}">{count}</text></g>'
        )
    return _svg(label, kind, body, height, width)
