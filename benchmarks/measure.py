"""One measurement: check the exact answer once, warm up, then a measured wrk run with CPU accounting."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import cpu_usage
from benchmarks.load import LoadFailed, LoadResult, run_wrk, write_bodies
from benchmarks.payloads import ApiUser, Payload, signed_bodies
from benchmarks.processes import ServerSet, descendants, post

# A signed body is good once, so each wrk run gets a pool of fresh ones: three times what the
# expected rate needs, and never fewer than MIN_SIGNED_BODIES. The rate is the warm-up's, or
# ASSUMED_RATE (several times the full path's on the development machine) before it is known.
MIN_SIGNED_BODIES = 20_000
POOL_MARGIN = 3
ASSUMED_RATE = 2_000.0
# The sidecar accepts a timestamp up to auth_skew_seconds (default 300) either side of its clock;
# bodies stamped half a run ahead stay good from their making to the run's end, with a margin.
AUTH_SKEW_SECONDS = 300
LONGEST_SIGNED_RUN = 2 * (AUTH_SKEW_SECONDS - 30)
# After the measured run, a short run with one connection gives the latency of a lone caller.
ONE_CONNECTION_SECONDS = 3


@dataclass(frozen=True, slots=True)
class Budget:
    """How long to load each server, and which CPUs servers and wrk run on (None: not pinned)."""

    warmup_seconds: int
    seconds: int
    server_cpu: int | None
    wrk_cpu: int | None

    def unpinned(self) -> Budget:
        """The same budget with servers and wrk free to use every CPU."""
        return dataclasses.replace(self, server_cpu=None, wrk_cpu=None)


@dataclass(frozen=True, slots=True)
class Measurement:
    """The outcome of measuring one deployment with one body."""

    key: str
    label: str
    is_bridge: bool
    # Set on the full path with one thing changed (auth, logs): what changed, for the ratios.
    variant: str
    protocol: str
    load: LoadResult | None = None
    # Share of one core per server process, and how busy the server CPU was as a whole.
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    server_cpu_busy: float | None = None
    # p50 of a short run with one connection: the latency a lone caller sees.
    p50_one_connection_ms: float | None = None
    # Why there is no figure (start-up failed, wrong answer, wrk failed); None when measured.
    problem: str | None = None

    @property
    def valid(self) -> bool:
        """True when there are figures and every answer was right."""
        return self.problem is None and self.load is not None and self.load.bad_answers == 0

    @property
    def cpu_us_per_call(self) -> float | None:
        """Server CPU (every process of the deployment) per answered request, in microseconds."""
        if self.load is None or not self.load.requests or not self.cpu_by_process:
            return None
        return sum(self.cpu_by_process.values()) * self.load.seconds * 1e6 / self.load.requests


def _server_pids(servers: ServerSet) -> list[int]:
    pids: list[int] = []
    for server in servers.servers:
        pids += [server.process.pid, *descendants(server.process.pid)]
    return pids


def _bodies(payload: Payload, user: ApiUser | None, count: int, timestamp: int | None = None) -> list[bytes]:
    """The payload's one body, or `count` bodies signed by `user`."""
    if not payload.signed:
        return [payload.body()]
    if user is None:
        raise LoadFailed(f"{payload.method} needs an API user, and the deployment created none")
    return signed_bodies(payload, user, count, timestamp)


def _write_run_bodies(path: Path, payload: Payload, user: ApiUser | None, seconds: int, rate: float) -> None:
    """Write the bodies of one wrk run of `seconds`: the one body, or a fresh pool of signed ones."""
    if payload.signed and seconds > LONGEST_SIGNED_RUN:
        raise LoadFailed(
            f"a signed body is good for {AUTH_SKEW_SECONDS} s either side of its timestamp; "
            f"runs with signed bodies last at most {LONGEST_SIGNED_RUN} s (BENCH_SECONDS)"
        )
    count = max(MIN_SIGNED_BODIES, math.ceil(POOL_MARGIN * rate * seconds))
    write_bodies(path, _bodies(payload, user, count, timestamp=int(time.time()) + seconds // 2))


def measure(
    servers: ServerSet,
    url: str,
    payload: Payload,
    budget: Budget,
    wrk: str,
    scratch: Path,
    identity: tuple[str, str, bool, str],
    user: ApiUser | None = None,
) -> Measurement:
    """Measure `payload` against `url`; `identity` is (key, label, is_bridge, variant) of the deployment.

    `user` signs the bodies of a signed payload.
    """
    key = identity[0]
    status, answer = post(url, payload.content_type, _bodies(payload, user, 1)[0])
    wrong = payload.verify(status, answer)
    if wrong is not None:
        return Measurement(*identity, payload.protocol, problem=f"wrong answer: {wrong}")
    body_file = scratch / f"body-{key}-{payload.protocol}.bin"
    log = scratch / "wrk.log"
    rate = ASSUMED_RATE
    if budget.warmup_seconds > 0:
        _write_run_bodies(body_file, payload, user, budget.warmup_seconds, rate)
        warm_up = run_wrk(wrk, url, payload, body_file, budget.warmup_seconds, budget.wrk_cpu, log)
        rate = warm_up.requests_per_second
    # Written before the CPU snapshot: making signed bodies takes the harness a second or two.
    _write_run_bodies(body_file, payload, user, budget.seconds, rate)
    for server in servers.servers:
        server.check_alive()
    pids = _server_pids(servers)
    before = cpu_usage.snapshot(pids, budget.server_cpu)
    started = time.monotonic()
    load = run_wrk(wrk, url, payload, body_file, budget.seconds, budget.wrk_cpu, log)
    usage = cpu_usage.usage_between(
        before, cpu_usage.snapshot(pids, budget.server_cpu), time.monotonic() - started
    )
    _write_run_bodies(body_file, payload, user, ONE_CONNECTION_SECONDS, rate)
    lone = run_wrk(wrk, url, payload, body_file, ONE_CONNECTION_SECONDS, budget.wrk_cpu, log, connections=1)
    for server in servers.servers:
        server.check_alive()
    problem = None
    bad, total = load.bad_answers + lone.bad_answers, load.requests + lone.requests
    if bad:
        problem = f"{bad} of {total} answers were not a correct {payload.method} answer"
    return Measurement(
        *identity, payload.protocol, load, usage.by_process, usage.cpu_busy, lone.p50_ms, problem
    )
