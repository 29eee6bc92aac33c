"""`rpcbridge up`: one command starts the whole deployment, prints its URLs, and stops it cleanly."""

from __future__ import annotations

import os
import signal
from pathlib import Path

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
