"""`rpcbridge up`: one command starts the whole deployment, prints its URLs, and stops it cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import EXAMPLE_WORKER, xmlrpc_call


def start_up(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge",
            "up",
            "--worker",
            EXAMPLE_WORKER,
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--admin-port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"XML-RPC and JSON-RPC at (\S+)", line)
        if found:
            return process, found.group(1)
    process.kill()
    raise AssertionError("rpcbridge up never printed its URL")


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def test_up_serves_and_stops_every_child_on_sigterm(tmp_path: Path) -> None:
    """After `up` prints its URL the bridge answers; SIGTERM stops sidecar, frontend and workers."""
    process, url = start_up(tmp_path)
    try:
        children = children_of(process.pid)
        assert len(children) == 3
        assert xmlrpc_call(url, "echo", "up") == "up"
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        for child in children:
            assert (
                not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
            )
    finally:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_up_reports_a_child_that_dies(tmp_path: Path) -> None:
    """A worker killed under `up` is reported and the deployment stops with a non-zero status."""
    process, _ = start_up(tmp_path)
    try:
        worker = next(
            child
            for child in children_of(process.pid)
            if "\0worker\0" in Path(f"/proc/{child}/cmdline").read_text()
        )
        os.kill(worker, signal.SIGKILL)
        assert process.wait(30) == 1
        assert process.stdout is not None
        assert "exited with status -9" in process.stdout.read()
    finally:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()
