"""The run's report: a table, the bridge's ratios to every alternative of the same run, and JSON.

Rows of the full path with one thing changed (a `variant`: auth on, logs off) are compared with
the full path as it ships, not taken for alternatives.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import Measurement

FULL_PATH_KEY = "bridge"
# The rows compared with every alternative: the full path as it ships, and with authentication on.
HEADLINE_KEYS = (FULL_PATH_KEY, "bridge-auth")
FIXED_ANSWER = "any (fixed answer)"
# Busy time of the server CPU not spent in the servers (kernel networking, other processes) above
# which a run is called shared: its figures are lower than a quiet machine would give.
SHARED_CPU_THRESHOLD = 0.2


@dataclass(frozen=True, slots=True)
class Ratio:
    """The bridge against an alternative, both from this run.

    `value` is the bridge's requests/s over the alternative's; `cpu` the alternative's server CPU
    per call over the bridge's (above 1: the bridge spends less CPU on a call), None when either
    has no CPU figure.
    """

    protocol: str
    alternative: str
    value: float
    cpu: float | None = None
    # The bridge row compared: "" for the full path, else its variant (authenticated).
    variant: str = ""

    def __str__(self) -> str:
        cpu = f", CPU per call {self.cpu:.2f}x" if self.cpu is not None else ""
        bridge = f"bridge ({self.variant})" if self.variant else "bridge"
        return f"{bridge} {self.protocol} / {self.alternative}: requests/s {self.value:.2f}x{cpu}"


@dataclass(frozen=True, slots=True)
class VariantRatio:
    """The requests/s of the full path with one thing changed over the full path's, both from this run."""

    protocol: str
    variant: str
    value: float

    def __str__(self) -> str:
        return f"{self.protocol}: {self.variant} / full path = {self.value:.2f}x"


def ratios(measurements: Sequence[Measurement]) -> list[Ratio]:
    """The headline bridge rows against each valid alternative serving the same protocol."""
    found = []
    for bridge in measurements:
        if bridge.key not in HEADLINE_KEYS or not bridge.valid or bridge.load is None:
            continue
        for other in measurements:
            if other.key in HEADLINE_KEYS or other.variant or not other.valid or other.load is None:
                continue
            if other.protocol not in (bridge.protocol, FIXED_ANSWER):
                continue
            value = bridge.load.requests_per_second / other.load.requests_per_second
            ours, theirs = bridge.cpu_us_per_call, other.cpu_us_per_call
            cpu = theirs / ours if ours and theirs else None
            found.append(Ratio(bridge.protocol, other.label, value, cpu, bridge.variant))
    return found


def variant_ratios(measurements: Sequence[Measurement]) -> list[VariantRatio]:
    """Each valid variant's throughput over the full path's, protocol by protocol."""
    full_path = {
        m.protocol: m.load.requests_per_second
        for m in measurements
        if m.key == FULL_PATH_KEY and m.valid and m.load is not None
    }
    return [
        VariantRatio(m.protocol, m.variant, m.load.requests_per_second / full_path[m.protocol])
        for m in measurements
        if m.variant and m.valid and m.load is not None and m.protocol in full_path
    ]


def _figure(value: float | None, form: str) -> str:
    return "-" if value is None else format(value, form)


def _row(measurement: Measurement) -> list[str]:
    load = measurement.load
    if not measurement.valid or load is None:
        return [measurement.label, measurement.protocol, *"-----", measurement.problem or "no figures"]
    errors = load.socket_errors + load.timeouts
    note = f"{load.timeouts} timeouts, {load.socket_errors} socket errors" if errors else "0"
    return [
        measurement.label,
        measurement.protocol,
        _figure(measurement.cpu_us_per_call, ",.0f"),
        f"{load.requests_per_second:,.0f}",
        f"{load.p50_ms:.2f}",
        f"{load.p99_ms:.2f}",
        _figure(measurement.p50_one_connection_ms, ".2f"),
        note,
    ]


def table(measurements: Sequence[Measurement]) -> str:
    """The figures as an aligned plain-text table (also valid Markdown)."""
    header = [
        "scenario",
        "protocol",
        "CPU µs/call",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "p50 ms, 1 conn",
        "errors",
    ]
    rows = [header, *(_row(m) for m in measurements)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 3, 4, 5, 6}

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        padded = [cell.rjust(width) if i in right else cell.ljust(width) for i, (cell, width) in pairs]
        return "| " + " | ".join(padded) + " |"

    dashes = [("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)]
    rule = "|" + "|".join(dashes) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows[1:])])


def other_cpu_share(measurement: Measurement) -> float | None:
    """Share of the server CPU that was busy but not in the servers' processes."""
    if measurement.server_cpu_busy is None:
        return None
    return max(0.0, measurement.server_cpu_busy - sum(measurement.cpu_by_process.values()))


def cpu_lines(measurements: Sequence[Measurement]) -> list[str]:
    """Where the server CPU went during each measured run, as shares of one core."""
    lines = []
    for m in measurements:
        if m.load is None:
            continue
        per_call = m.load.seconds * 1e6 / m.load.requests if m.load.requests else 0.0
        parts = ", ".join(
            f"{name} {share:.2f} ({share * per_call:.0f} µs/call)" for name, share in m.cpu_by_process.items()
        )
        other = other_cpu_share(m)
        busy = f"; CPU busy {m.server_cpu_busy:.2f}, other {other:.2f}" if other is not None else ""
        flag = "  <- shared CPU" if other is not None and other > SHARED_CPU_THRESHOLD else ""
        wrk = f"; wrk {m.load.wrk_cpu_share:.2f}"
        lines.append(f"{m.label}, {m.protocol}: {parts or 'no samples'}{busy}{wrk}{flag}")
    return lines


def shared_cpu(measurements: Sequence[Measurement]) -> bool:
    """True when some run's server CPU was noticeably busy outside the servers."""
    return any((other_cpu_share(m) or 0.0) > SHARED_CPU_THRESHOLD for m in measurements if m.load)


def write_json(path: Path, measurements: Sequence[Measurement], context: dict[str, Any]) -> None:
    """Write the run (context, every measurement, the ratios) as JSON to `path`."""
    document = {
        **context,
        "results": [
            {
                **dataclasses.asdict(m),
                "requests_per_second": m.load.requests_per_second if m.load else None,
                "cpu_us_per_call": m.cpu_us_per_call,
                "other_cpu_share": other_cpu_share(m),
                "valid": m.valid,
            }
            for m in measurements
        ],
        "ratios": [dataclasses.asdict(r) for r in ratios(measurements)],
        "variant_ratios": [dataclasses.asdict(r) for r in variant_ratios(measurements)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
