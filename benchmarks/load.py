"""The load generator: wrk, pinned to its own CPU, posting one body (or a pool of signed bodies, each
once) and checking every answer.

wrk's figures come back through the `done()` hook of `echo_check.lua` as one JSON line.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.payloads import Payload

LUA_SCRIPT = Path(__file__).with_name("echo_check.lua")
CONNECTIONS = 32
THREADS = 1
RESULT_PREFIX = "BENCH_RESULT "


class LoadFailed(Exception):
    """wrk could not run, or printed no result."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    timeouts: int
    # Answers that were not HTTP 200 carrying the echo (the Lua hook checks every one).
    bad_answers: int
    # Share of its core wrk itself used: near 1.0, the load generator, not the server, was the limit.
    wrk_cpu_share: float

    @property
    def requests_per_second(self) -> float:
        """Completed requests per second of the measured run."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def clean(self) -> bool:
        """True when every answer was right and no socket error or timeout happened."""
        return self.bad_answers == 0 and self.socket_errors == 0 and self.timeouts == 0 and self.requests > 0


def find_wrk() -> str | None:
    """The wrk executable on PATH, if any."""
    return shutil.which("wrk")


def write_bodies(path: Path, bodies: Sequence[bytes]) -> None:
    """Write the bodies wrk sends: one body as is, or a pool of signed bodies separated by NUL bytes."""
    assert all(b"\0" not in body for body in bodies), "XML and JSON text never holds a NUL byte"
    path.write_bytes(b"\0".join(bodies))


def run_wrk(
    wrk: str,
    url: str,
    payload: Payload,
    body_file: Path,
    seconds: int,
    cpu: int | None,
    log: Path,
    connections: int = CONNECTIONS,
) -> LoadResult:
    """Run wrk against `url` for `seconds` with the bodies in `body_file` (see `write_bodies`).

    Returns wrk's figures; its raw output is appended to `log`. A signed payload's pool is split
    between wrk's threads, and wrk stops with a message if it runs out.
    """
    pool = ["pool", str(THREADS)] if payload.signed else []
    pin = ["taskset", "--cpu-list", str(cpu)] if cpu is not None else []
    argv = [
        *pin,
        wrk,
        f"--threads={THREADS}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=2s",
        f"--script={LUA_SCRIPT}",
        url,
        "--",
        str(body_file),
        payload.content_type,
        payload.expect,
        payload.forbid,
        *pool,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LoadFailed(f"wrk did not finish within {seconds + 60} s") from exc
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            figures = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise LoadFailed(f"wrk exited with status {done.returncode} and no result: {done.stderr.strip()}")
    return LoadResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1e3,
        p99_ms=figures["p99_us"] / 1e3,
        max_ms=figures["max_us"] / 1e3,
        socket_errors=figures["connect_errors"] + figures["read_errors"] + figures["write_errors"],
        timeouts=figures["timeouts"],
        bad_answers=figures["bad"] + max(0, figures["requests"] - figures["checked"]),
        wrk_cpu_share=wrk_seconds * 1e6 / figures["duration_us"] if figures["duration_us"] else 0.0,
    )
