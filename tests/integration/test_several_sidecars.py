"""One frontend over two sidecars on one PostgreSQL and Redis: calls spread, a killed sidecar costs
only its calls in flight, and each sidecar says whether it is ready (HTTP and gRPC health)."""

from __future__ import annotations

import re
import secrets
import signal
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.testing import RunningProcess, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, REDIS_URL, json_rpc

WORKER_UNAVAILABLE = -32004
CALLERS = 4
CALLS_EACH = 60


def http_get(url: str) -> tuple[int, str]:
    """GET a URL; status and body text, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def echo_calls(admin_url: str) -> float:
    """How many echo calls a sidecar has answered, from its /metrics."""
    _, text = http_get(admin_url + "/metrics")
    found = re.findall(r'^rpcbridge_sidecar_calls_total\{[^}]*procedure="echo"[^}]*\} (\S+)$', text, re.M)
    return sum(float(value) for value in found)


def grpc_health(address: str) -> Any:
    with grpc.insecure_channel(address) as channel:
        request = health_pb2.HealthCheckRequest(service="rpcbridge.v1.Worker")
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=5).status


class Topology:
    """A worker, two sidecars and one frontend over both, started as separate processes."""

    def __init__(self, scratch: Path, postgres_url: str) -> None:
        self.scratch = scratch
        self.env = {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16)}
        self.processes: list[RunningProcess] = []
        worker_args = [EXAMPLE_WORKER, "--listen", "127.0.0.1:0", "--data-dir", str(scratch / "w")]
        self.worker = self.start("worker", worker_args)
        # The store URLs go as flags, as an operator's unit file would give them.
        self.sidecar_args = [
            *("--grpc-port", "0", "--admin-port", "0", "--data-dir", str(scratch / "s")),
            *("--database-url", postgres_url, "--redis-url", REDIS_URL),
            *("--worker", self.worker.facts["address"]),
        ]
        self.sidecars = [self.start("sidecar", self.sidecar_args) for _ in range(2)]
        sidecar_flags = [flag for s in self.sidecars for flag in ("--sidecar", s.facts["grpc"])]
        frontend_args = [*sidecar_flags, "--http-port", "0", "--data-dir", str(scratch / "f")]
        self.frontend = self.start("frontend", frontend_args)
        self.url = self.frontend.facts["url"] + "/rpc"

    def start(self, role: str, args: list[str]) -> RunningProcess:
        process = start_role(role, args, self.scratch, self.env)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def topology(tmp_path: Path, postgres_url: str) -> Iterator[Topology]:
    running = Topology(tmp_path, postgres_url)
    try:
        yield running
    finally:
        running.stop()


def echo(url: str, text: str) -> Any:
    """One JSON-RPC echo call: the result, or the error object."""
    _, answer = json_rpc(url, {"jsonrpc": "2.0", "method": "echo", "params": [text], "id": 1})
    return answer.get("result", answer.get("error"))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_calls_spread_over_both_sidecars(topology: Topology) -> None:
    """Repeated --sidecar: both sidecars answer calls (before, only the last one listed did)."""
    for index in range(20):
        assert echo(topology.url, f"call {index}") == f"call {index}"
    assert all(echo_calls(s.facts["admin"]) >= 5 for s in topology.sidecars)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
def test_a_sidecar_killed_under_load_costs_only_its_calls_in_flight(topology: Topology) -> None:
    """SIGKILL one sidecar while callers run: at most one call per caller fails, with -32004, and
    every call after that succeeds on the other sidecar."""
    results: list[Any] = []
    lock = threading.Lock()
    done_before_kill = threading.Event()

    def caller(number: int) -> None:
        for index in range(CALLS_EACH):
            text = f"{number}-{index}"
            answer = echo(topology.url, text)
            with lock:
                results.append((text, answer))
                if len(results) == CALLERS * 10:
                    done_before_kill.set()

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    assert done_before_kill.wait(60)
    topology.sidecars[1].stop(signal.SIGKILL)
    for thread in threads:
        thread.join(90)
    assert len(results) == CALLERS * CALLS_EACH
    failed = [(text, answer) for text, answer in results if answer != text]
    # Each caller has one call in flight at a time, so at most CALLERS calls were on the dead sidecar.
    assert len(failed) <= CALLERS, failed
    assert all(answer["code"] == WORKER_UNAVAILABLE for _, answer in failed), failed
    for index in range(10):
        assert echo(topology.url, f"after {index}") == f"after {index}"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_sidecar_readiness_over_http_and_grpc_health(topology: Topology) -> None:
    """/readyz and gRPC health say SERVING with a worker, NOT_SERVING (503) once it is gone."""
    sidecar = topology.sidecars[0]
    admin, address = sidecar.facts["admin"], sidecar.facts["grpc"]
    assert http_get(admin + "/healthz") == (200, "ok")
    assert http_get(admin + "/readyz") == (200, "ready")
    assert grpc_health(address) == health_pb2.HealthCheckResponse.SERVING
    topology.worker.stop(signal.SIGKILL)
    wait_until(lambda: http_get(admin + "/readyz")[0] == 503, timeout=30)
    assert "no worker" in http_get(admin + "/readyz")[1]
    wait_until(lambda: grpc_health(address) == health_pb2.HealthCheckResponse.NOT_SERVING, timeout=30)
    assert http_get(admin + "/healthz") == (200, "ok")
