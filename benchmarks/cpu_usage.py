"""Who used the server CPU during a measured run: each server process, and the CPU as a whole.

Read from /proc: a process's utime + stime, and the CPU's busy time from /proc/stat. A server that
keeps its CPU far from busy is waiting, not working; a CPU busier than its servers has a neighbour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def process_label(pid: int) -> str:
    """A short name for a server process: the bridge role, or the program's name."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [part.decode(errors="replace") for part in argv if part]
    for role in ("up", "worker", "sidecar", "frontend"):
        if role in words and ("bridge" in words or any(w.endswith("rpcbridge") for w in words)):
            return role
    if any("gunicorn" in word for word in words[:2]):
        return "gunicorn"
    modules = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-m"]
    return modules[0].rsplit(".", 1)[-1] if modules else Path(words[0]).name if words else f"pid {pid}"


def process_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) `pid` has used so far, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def cpu_busy_seconds(cpu: int) -> float:
    """Seconds CPU `cpu` has spent busy (everything but idle and iowait) since boot."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            ticks = [int(value) for value in line.split()[1:]]
            return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICKS_PER_SECOND
    raise ValueError(f"no cpu{cpu} in /proc/stat")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU seconds of each watched process and of the server CPU at one moment."""

    processes: dict[int, float]
    cpu_busy: float | None


def snapshot(pids: list[int], cpu: int | None) -> Snapshot:
    """Read the CPU seconds of `pids` and of `cpu` now."""
    seconds = {pid: used for pid in pids if (used := process_seconds(pid)) is not None}
    return Snapshot(seconds, cpu_busy_seconds(cpu) if cpu is not None else None)


@dataclass(frozen=True, slots=True)
class Usage:
    """Share of one core used during a run: per labelled process, and by the whole server CPU."""

    by_process: dict[str, float]
    cpu_busy: float | None

    @property
    def servers_total(self) -> float:
        """Share of one core the server processes used together."""
        return sum(self.by_process.values())


def usage_between(before: Snapshot, after: Snapshot, wall_seconds: float) -> Usage:
    """Shares of one core used between two snapshots `wall_seconds` apart."""
    shares: dict[str, float] = {}
    for pid, used in after.processes.items():
        delta = used - before.processes.get(pid, 0.0)
        if delta > 0:
            label = process_label(pid)
            shares[label] = shares.get(label, 0.0) + delta / wall_seconds
    busy = None
    if before.cpu_busy is not None and after.cpu_busy is not None:
        busy = (after.cpu_busy - before.cpu_busy) / wall_seconds
    return Usage(dict(sorted(shares.items(), key=lambda item: -item[1])), busy)
