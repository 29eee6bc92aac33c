"""Test helpers, shipped as public API: start real rpcbridge processes on 127.0.0.1 and stop them.

Every role is started as `python -m bridge ROLE ... --ready-file F` on a kernel-chosen port and
waited for until it announces its address, so tests never guess ports or sleep blindly.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.readiness import read_announcement

READY_TIMEOUT = 30.0


@dataclass
class RunningProcess:
    """A started role: its process, what it announced, and where its log goes."""

    role: str
    process: subprocess.Popen[bytes]
    facts: dict[str, Any]
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `sig` (SIGTERM: graceful) and wait; SIGKILL after `timeout`. Returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_role(
    role: str,
    args: Sequence[str],
    scratch: Path,
    env: Mapping[str, str] | None = None,
    launcher: Sequence[str] = (sys.executable, "-m", "bridge"),
    prefix: Sequence[str] = (),
) -> RunningProcess:
    """Start `python -m bridge ROLE ARGS... --ready-file F` and wait until it announces itself.

    Args:
        launcher: the command before ROLE, e.g. another environment's `bin/rpcbridge`.
        prefix: a command that execs the rest (e.g. `ip netns exec NAME`), so the process is the role.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    stem = f"{role}-{time.monotonic_ns()}"
    ready_file = scratch / f"{stem}.json"
    log_path = scratch / f"{stem}.log"
    command = [*prefix, *launcher, role, *args, "--ready-file", str(ready_file)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 -- our own module, fixed arguments
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    running = RunningProcess(role, process, {}, log_path)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        facts = read_announcement(ready_file)
        if facts is not None:
            running.facts = facts
            return running
        if process.poll() is not None:
            raise RuntimeError(f"{role} exited with {process.returncode}:\n{running.log()}")
        time.sleep(0.02)
    running.stop(signal.SIGKILL)
    raise RuntimeError(f"{role} did not announce itself within {READY_TIMEOUT} s:\n{running.log()}")


@dataclass
class Deployment:
    """Worker(s), sidecar and frontend started as separate processes."""

    workers: list[RunningProcess]
    sidecar: RunningProcess
    frontend: RunningProcess
    scratch: Path
    env: dict[str, str] = field(default_factory=dict)
    extra: list[RunningProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The frontend's base URL, e.g. http://127.0.0.1:41234."""
        return str(self.frontend.facts["url"])

    @property
    def grpc_address(self) -> str:
        """The sidecar's gRPC address for gRPC clients."""
        return str(self.sidecar.facts["grpc"])

    @property
    def admin_url(self) -> str:
        """The sidecar's admin site."""
        return str(self.sidecar.facts["admin"])

    def stop(self) -> None:
        """Stop frontend, sidecar, then workers."""
        for process in [*self.extra, self.frontend, self.sidecar, *self.workers]:
            process.stop()


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.05) -> None:
    """Poll `predicate()` until it is truthy; raise AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@contextlib.contextmanager
def deployment(
    worker_targets: Sequence[str],
    settings_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    scratch: Path | None = None,
    worker_addresses: Sequence[str] = (),
    frontend_port: int = 0,
) -> Iterator[Deployment]:
    """Start workers, a sidecar and a frontend on kernel-chosen ports; stop them all afterwards.

    Args:
        worker_addresses: workers already running (any language), routed to besides the started ones.
        frontend_port: the frontend's port, when the sidecar must know it in advance
            (`frontend_public_url`); 0 lets the kernel choose.
    """
    # Like `rpcbridge up`: workers trust only this deployment's sidecar.
    env = {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16), **(env or {})}
    with contextlib.ExitStack() as stack:
        if scratch is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rpcbridge-test-")))
        common = ["--data-dir", str(scratch / "data"), *settings_args]
        started: list[RunningProcess] = []
        try:
            for target in worker_targets:
                started.append(
                    start_role("worker", [target, "--listen", "127.0.0.1:0", *common], scratch, env)
                )
            sidecar_args = ["--grpc-port", "0", "--admin-port", "0", *common]
            for address in [*(worker.facts["address"] for worker in started), *worker_addresses]:
                sidecar_args += ["--worker", address]
            sidecar = start_role("sidecar", sidecar_args, scratch, env)
            started.append(sidecar)
            frontend_args = ["--sidecar", sidecar.facts["grpc"], "--http-port", str(frontend_port), *common]
            frontend = start_role("frontend", frontend_args, scratch, env)
            started.append(frontend)
        except BaseException:
            for process in reversed(started):
                process.stop()
            raise
        running = Deployment(started[:-2], sidecar, frontend, scratch, env)
        try:
            yield running
        finally:
            running.stop()


@dataclass
class UpDeployment:
    """A running `rpcbridge up` and the addresses it printed."""

    process: subprocess.Popen[str]
    url: str
    grpc_address: str

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (`up` stops its children only when asked nicely), then SIGKILL; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def start_up(args: Sequence[str], data_dir: Path, env: Mapping[str, str] | None = None) -> UpDeployment:
    """Run `rpcbridge up ARGS...` on kernel-chosen ports and wait until it prints its addresses."""
    command = [sys.executable, "-m", "bridge", "up", *args]
    command += ["--http-port", "0", "--grpc-port", "0", "--admin-port", "0", "--data-dir", str(data_dir)]
    process = subprocess.Popen(  # noqa: S603 -- our own module, fixed arguments
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if found := re.search(r"XML-RPC and JSON-RPC at (\S+)/rpc", line):
            url = found.group(1) + "/rpc"
        if found := re.search(r"gRPC \(rpcbridge.v1.Worker\) at (\S+),", line):
            return UpDeployment(process, url, found.group(1))
    UpDeployment(process, url, "").stop()
    raise RuntimeError("rpcbridge up exited before printing its addresses")
