"""One measurement: check the exact answer once, warm up, then a measured wrk run with CPU accounting."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import cpu_usage
from benchmarks.load import LoadResult, run_wrk
from benchmarks.payloads import Payload
from benchmarks.processes import ServerSet, descendants, post


@dataclass(frozen=True, slots=True)
class Budget:
    """How long to load each server, and which CPUs servers and wrk run on (None: not pinned)."""

    warmup_seconds: int
    seconds: int
    server_cpu: int | None
    wrk_cpu: int | None


@dataclass(frozen=True, slots=True)
class Measurement:
    """The outcome of measuring one deployment with one body."""

    key: str
    label: str
    is_bridge: bool
    protocol: str
    load: LoadResult | None = None
    # Share of one core per server process, and how busy the server CPU was as a whole.
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    server_cpu_busy: float | None = None
    # Why there is no figure (start-up failed, wrong answer, wrk failed); None when measured.
    problem: str | None = None

    @property
    def valid(self) -> bool:
        """True when there are figures and every answer was right."""
        return self.problem is None and self.load is not None and self.load.bad_answers == 0


def _server_pids(servers: ServerSet) -> list[int]:
    pids: list[int] = []
    for server in servers.servers:
        pids += [server.process.pid, *descendants(server.process.pid)]
    return pids


def measure(
    servers: ServerSet,
    url: str,
    payload: Payload,
    budget: Budget,
    wrk: str,
    scratch: Path,
    identity: tuple[str, str, bool],
) -> Measurement:
    """Measure `payload` against `url`; `identity` is (key, label, is_bridge) of the deployment."""
    key = identity[0]
    status, answer = post(url, payload.content_type, payload.body)
    wrong = payload.verify(status, answer)
    if wrong is not None:
        return Measurement(*identity, payload.protocol, problem=f"wrong answer: {wrong}")
    body_file = scratch / f"body-{key}-{payload.protocol}.bin"
    log = scratch / "wrk.log"
    if budget.warmup_seconds > 0:
        run_wrk(wrk, url, payload, body_file, budget.warmup_seconds, budget.wrk_cpu, log)
    for server in servers.servers:
        server.check_alive()
    pids = _server_pids(servers)
    before = cpu_usage.snapshot(pids, budget.server_cpu)
    started = time.monotonic()
    load = run_wrk(wrk, url, payload, body_file, budget.seconds, budget.wrk_cpu, log)
    usage = cpu_usage.usage_between(
        before, cpu_usage.snapshot(pids, budget.server_cpu), time.monotonic() - started
    )
    for server in servers.servers:
        server.check_alive()
    problem = None
    if load.bad_answers:
        problem = f"{load.bad_answers} of {load.requests} answers were not a correct echo"
    return Measurement(*identity, payload.protocol, load, usage.by_process, usage.cpu_busy, problem)
