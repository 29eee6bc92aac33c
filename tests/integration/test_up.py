"""`rpcbridge up`: one command starts the whole deployment, prints its URLs, and stops it cleanly."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bridge.testing import start_up
from tests.integration.conftest import EXAMPLE_WORKER, xmlrpc_call


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def test_up_serves_and_stops_every_child_on_sigterm(tmp_path: Path) -> None:
    """After `up` prints its URL the bridge answers; SIGTERM stops sidecar, frontend and workers."""
    up = start_up(["--worker", EXAMPLE_WORKER], tmp_path / "data")
    try:
        children = children_of(up.process.pid)
        assert len(children) == 3
        assert xmlrpc_call(up.url, "echo", "up") == "up"
        assert up.stop() == 0
        for child in children:
            assert (
                not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
            )
    finally:
        up.stop()


def test_up_reports_a_child_that_dies(tmp_path: Path) -> None:
    """A worker killed under `up` is reported and the deployment stops with a non-zero status."""
    up = start_up(["--worker", EXAMPLE_WORKER], tmp_path / "data")
    try:
        worker = next(
            child
            for child in children_of(up.process.pid)
            if "\0worker\0" in Path(f"/proc/{child}/cmdline").read_text()
        )
        os.kill(worker, signal.SIGKILL)
        assert up.process.wait(30) == 1
        assert up.process.stdout is not None
        assert "exited with status -9" in up.process.stdout.read()
    finally:
        up.stop()


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def _role_args(up_pid: int) -> dict[str, list[str]]:
    """Each child's command line after `-m bridge`, by role."""
    found = {}
    for child in children_of(up_pid):
        args = _cmdline(child)
        role_args = args[args.index("bridge") + 1 :]
        found[role_args[0]] = role_args
    return found


def _health_status(address: str) -> int:
    channel = grpc.insecure_channel(address)
    try:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        return int(answer.status)
    finally:
        channel.close()


def test_up_joins_its_processes_by_unix_sockets_and_keeps_grpc_on_tcp(tmp_path: Path) -> None:
    """By default the frontend reaches the sidecar and the sidecar the worker over unix sockets; the
    sidecar's gRPC port still serves other clients over TCP."""
    up = start_up(["--worker", EXAMPLE_WORKER], tmp_path / "data")
    try:
        roles = _role_args(up.process.pid)
        worker_listen = roles["worker"][roles["worker"].index("--listen") + 1]
        to_sidecar = roles["frontend"][roles["frontend"].index("--sidecar") + 1]
        assert worker_listen.startswith("unix:/") and to_sidecar.startswith("unix:/")
        assert roles["sidecar"][roles["sidecar"].index("--worker") + 1] == worker_listen
        assert xmlrpc_call(up.url, "echo", "over unix") == "over unix"
        assert _health_status(up.grpc_address) == health_pb2.HealthCheckResponse.SERVING
    finally:
        up.stop()


def test_unix_sockets_false_keeps_every_hop_on_tcp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RPCBRIDGE_UNIX_SOCKETS=false: the processes reach each other over loopback TCP."""
    monkeypatch.setenv("RPCBRIDGE_UNIX_SOCKETS", "false")
    up = start_up(["--worker", EXAMPLE_WORKER], tmp_path / "data")
    try:
        roles = _role_args(up.process.pid)
        assert roles["worker"][roles["worker"].index("--listen") + 1] == "127.0.0.1:0"
        assert roles["frontend"][roles["frontend"].index("--sidecar") + 1] == up.grpc_address
        assert "--local-socket" not in roles["sidecar"]
        assert xmlrpc_call(up.url, "echo", "over tcp") == "over tcp"
    finally:
        up.stop()
