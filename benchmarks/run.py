"""`make bench`: measure the bridge and its alternatives under the same load, on the same core.

Environment: BENCH_SECONDS (measured run per scenario and protocol, default 10), BENCH_WARMUP_SECONDS
(default 3), BENCH_ONLY (comma-separated scenario keys, e.g. `bridge,one-hop`; default all),
BENCH_FANOUT=0 to skip the WebSocket fan-out line (benchmarks/fanout.py).
Prints a table and the bridge's ratios to each alternative; writes them to .rpcbridge/bench/.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks import events_bench, report
from benchmarks.bench_env import BenchEnvFailed, ensure_bench_venv
from benchmarks.deployments import DEPLOYMENTS, Deployment, Paths
from benchmarks.fanout import fanout_line
from benchmarks.load import CONNECTIONS, THREADS, LoadFailed, find_wrk
from benchmarks.measure import Budget, Measurement, measure
from benchmarks.processes import ServerFailed, server_set

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / ".rpcbridge" / "bench"
BENCH_VENV = ROOT / ".venv-bench"
PROBLEM_LINE = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")


def _env_int(name: str, default: int, environ: dict[str, str]) -> int:
    raw = environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"bench: {name} must be a whole number of seconds, not {raw!r}") from None
    if value < 0:
        raise SystemExit(f"bench: {name} must not be negative")
    return value


def _selected(environ: dict[str, str]) -> list[Deployment]:
    every = (*DEPLOYMENTS, *events_bench.DEPLOYMENTS)
    keys = [key.strip() for key in environ.get("BENCH_ONLY", "").split(",") if key.strip()]
    if not keys:
        return list(every)
    known = {d.key for d in every}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise SystemExit(f"bench: unknown BENCH_ONLY key(s) {unknown}; known: {sorted(known)}")
    return [d for d in every if d.key in keys]


def _pinning() -> tuple[int | None, int | None]:
    """CPU 0 for servers and CPU 1 for wrk, when both are ours to use."""
    if {0, 1} <= os.sched_getaffinity(0):
        return 0, 1
    print("bench: warning: CPUs 0 and 1 are not both available; running unpinned", file=sys.stderr)
    return None, None


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _first_line(argv: Sequence[str]) -> str | None:
    """The first line `argv` prints (stdout, else stderr), or None if it prints nothing or fails."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else None


def _commit() -> str:
    """The checked-out commit, marked when tracked files have uncommitted changes."""
    commit = _first_line(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    modified = _first_line(["git", "status", "--porcelain", "--untracked-files=no"]) is not None
    return f"{commit} (modified)" if modified else commit


def _context(wrk: str, budget: Budget) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "wrk": _first_line([wrk, "-v"]) or "unknown",
            "load_average_at_start": os.getloadavg(),
        },
        "versions": {name: importlib.metadata.version(name) for name in ("aiohttp", "grpcio", "protobuf")},
        "commit": _commit(),
        "load": {"wrk_threads": THREADS, "connections": CONNECTIONS, **dataclasses.asdict(budget)},
    }


def _log_problems(log_paths: Sequence[Path]) -> list[str]:
    """For each bridge log with lines that look like errors: how many, and the first one."""
    findings = []
    for path in log_paths:
        hits = [
            line
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if PROBLEM_LINE.search(line)
        ]
        if hits:
            findings.append(f"{path.name}: {len(hits)} error line(s), first: {hits[0][:300]}")
    return findings


def _run_deployment(
    deployment: Deployment, paths: Paths, budget: Budget, wrk: str, env: dict[str, str]
) -> tuple[list[Measurement], list[Path]]:
    measurements: list[Measurement] = []
    identity = (deployment.key, deployment.label, deployment.is_bridge, deployment.variant)
    if deployment.both_cores:
        budget = budget.unpinned()
    with server_set(paths.scratch, budget.server_cpu, env) as servers:
        try:
            endpoint = deployment.start(servers, paths)
        except ServerFailed as exc:
            failed = [
                Measurement(*identity, p.protocol, problem=f"did not start: {exc}")
                for p in deployment.payloads
            ]
            return failed, [s.log_path for s in servers.servers]
        for payload in deployment.payloads:
            print(f"  {deployment.label}, {payload.protocol} at {endpoint.url} ...", flush=True)
            try:
                result = measure(
                    servers, endpoint.url, payload, budget, wrk, paths.scratch, identity, endpoint.user
                )
            except (ServerFailed, LoadFailed) as exc:
                result = Measurement(*identity, payload.protocol, problem=str(exc))
            if deployment.key == "ceiling":
                result = dataclasses.replace(result, protocol=report.FIXED_ANSWER)
            measurements.append(result)
            if result.load is not None and result.valid:
                print(f"    {result.load.requests_per_second:,.0f} requests/s", flush=True)
            else:
                print(f"    problem: {result.problem}", flush=True)
        logs = [s.log_path for s in servers.servers]
    return measurements, logs


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    """Run every selected scenario, print the report, write the JSON; non-zero if any failed."""
    environ = dict(os.environ)
    wrk = find_wrk()
    if wrk is None:
        print(
            "bench: wrk is missing; install it with `apt-get install wrk` (Debian, Ubuntu)", file=sys.stderr
        )
        return 1
    if shutil.which("taskset") is None:
        print("bench: taskset is missing; install it with `apt-get install util-linux`", file=sys.stderr)
        return 1
    server_cpu, wrk_cpu = _pinning()
    budget = Budget(
        warmup_seconds=_env_int("BENCH_WARMUP_SECONDS", 3, environ),
        seconds=max(1, _env_int("BENCH_SECONDS", 10, environ)),
        server_cpu=server_cpu,
        wrk_cpu=wrk_cpu,
    )
    deployments = _selected(environ)
    bench_bin = BENCH_VENV / "bin"
    if any(d.key == "django" for d in deployments):
        try:
            bench_bin = ensure_bench_venv(BENCH_VENV)
        except BenchEnvFailed as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    scratch = OUTPUT_DIR / "run"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    paths = Paths(ROOT, Path(sys.executable).parent, bench_bin, scratch)
    # The bridge is measured with its defaults, whatever the calling shell sets.
    env = {k: v for k, v in environ.items() if not k.startswith("RPCBRIDGE_")}
    context = _context(wrk, budget)
    print(
        f"bench: {len(deployments)} scenario(s); servers on CPU {server_cpu}, wrk on CPU {wrk_cpu}; "
        f"wrk -t{THREADS} -c{CONNECTIONS}, {budget.warmup_seconds} s warm-up + {budget.seconds} s measured; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _raise_interrupt)
    measurements: list[Measurement] = []
    findings: list[str] = []
    try:
        for deployment in deployments:
            found, logs = _run_deployment(deployment, paths, budget, wrk, env)
            measurements += found
            if deployment.is_bridge:
                findings += _log_problems(logs)
    except KeyboardInterrupt:
        print("bench: interrupted; every server started has been stopped", file=sys.stderr)
        return 130
    _print_report(measurements, deployments, findings, budget)
    for line in events_bench.ratios(measurements, scratch):
        print(f"\nevents (same run; CPU per call above 1x: the event costs that much more):\n  {line}")
    if environ.get("BENCH_FANOUT", "1") != "0":
        print(f"\n{fanout_line(scratch / 'fanout')}")
    out = OUTPUT_DIR / "last-run.json"
    report.write_json(out, measurements, {**context, "bridge_log_findings": findings})
    print(f"\nwritten to {out.relative_to(ROOT)} (logs in {scratch.relative_to(ROOT)}/)")
    return 0 if all(m.valid for m in measurements) else 1


def _print_report(
    measurements: Sequence[Measurement],
    deployments: Sequence[Deployment],
    findings: Sequence[str],
    budget: Budget,
) -> None:
    print()
    print(report.table(measurements))
    for deployment in deployments:
        if deployment.note:
            print(f"  * {deployment.label}: {deployment.note}")
    found = [*report.variant_ratios(measurements), *report.ratios(measurements)]
    if found:
        print("\nratios (same run; CPU per call above 1x: the bridge spends less CPU per call):")
        for ratio in found:
            print(f"  {ratio}")
    print(f"\nshare of one core used during each measured run (servers on CPU {budget.server_cpu}):")
    for line in report.cpu_lines(measurements):
        print(f"  {line}")
    if report.shared_cpu(measurements):
        print(
            "  warning: in runs marked 'shared CPU' the server CPU was busy outside the servers "
            "(other processes, or kernel networking); their figures are lower than a quiet machine gives"
        )
    if findings:
        print("\nbridge logs show problems:")
        for finding in findings:
            print(f"  {finding}")


if __name__ == "__main__":
    raise SystemExit(main())
