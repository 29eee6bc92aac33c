"""Servers under test as child processes: started pinned to one CPU, found ready, always stopped.

Every child gets a session of its own, so stopping it reaches its whole process group (gunicorn's
workers); `rpcbridge up` puts its children in sessions of their own, so their pids are noted while
they run and any that outlive the supervisor are killed too. Only processes started here are signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class ServerFailed(Exception):
    """A server exited, or did not get ready, during start-up."""


def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    """Every living process below `pid`, children first."""
    found: list[int] = []
    queue = [pid]
    while queue:
        children = _children_of(queue.pop(0))
        found += children
        queue += children
    return found


@dataclass
class Server:
    """One started child process (and everything it started), with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]
    # gunicorn stops at once on SIGQUIT, but waits for its workers' connections on SIGTERM.
    stop_signal: signal.Signals = signal.SIGTERM
    # (pid, start time) of descendants seen while it ran, for those that leave its process group.
    _seen: set[tuple[int, str]] = field(default_factory=set)

    def note_descendants(self) -> None:
        """Remember the processes this server has started so far."""
        for pid in descendants(self.process.pid):
            started = _start_time(pid)
            if started is not None:
                self._seen.add((pid, started))

    def check_alive(self) -> None:
        """Raise ServerFailed if the process has exited."""
        status = self.process.poll()
        if status is not None:
            raise ServerFailed(f"{self.name} exited with status {status}; see {self.log_path}")

    def stop(self) -> None:
        """Signal the process group, SIGKILL it after STOP_TIMEOUT, then SIGKILL any noted straggler."""
        if self.process.poll() is None:
            self.note_descendants()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, self.stop_signal)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid, started in self._seen:
            if _start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()

    def log_text(self) -> str:
        """What the server has written to stdout and stderr so far."""
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ServerSet:
    """The servers of one scenario; stopping the set stops them all, last started first."""

    def __init__(self, log_dir: Path, cpu: int | None, env: dict[str, str]) -> None:
        self._log_dir = log_dir
        self._cpu = cpu
        self._env = env
        self.servers: list[Server] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> Server:
        """Start `argv` pinned to the set's CPU, its output going to a log file."""
        pin = ["taskset", "--cpu-list", str(self._cpu)] if self._cpu is not None else []
        log_path = self._log_dir / f"{name.replace(' ', '-')}.log"
        log = log_path.open("wb")
        try:
            process = subprocess.Popen(
                [*pin, *argv],
                cwd=cwd,
                env={**self._env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            log.close()
            raise
        server = Server(name, process, log_path, log, stop_signal)
        self.servers.append(server)
        return server

    def run_once(self, argv: Sequence[str], cwd: Path) -> str:
        """Run a short command with the set's environment and CPU, and return what it printed."""
        pin = ["taskset", "--cpu-list", str(self._cpu)] if self._cpu is not None else []
        try:
            done = subprocess.run(
                [*pin, *argv],
                cwd=cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerFailed(f"{' '.join(argv)} did not finish within {START_TIMEOUT:.0f} s") from exc
        if done.returncode != 0:
            raise ServerFailed(
                f"{' '.join(argv)} exited with status {done.returncode}: {done.stderr.strip()}"
            )
        return done.stdout

    def stop_all(self) -> None:
        """Stop every server of the set, the last started first."""
        while self.servers:
            self.servers.pop().stop()


@contextlib.contextmanager
def server_set(log_dir: Path, cpu: int | None, env: dict[str, str]) -> Iterator[ServerSet]:
    """A ServerSet whose servers are stopped however the block ends."""
    servers = ServerSet(log_dir, cpu, env)
    try:
        yield servers
    finally:
        servers.stop_all()


def wait_for(server: Server, probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` until it returns something other than None, while `server` stays alive."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        server.check_alive()
        time.sleep(0.05)
    raise ServerFailed(f"{server.name}: no {what} within {START_TIMEOUT:.0f} s; see {server.log_path}")


def read_ready_file(path: Path) -> Callable[[], dict[str, Any] | None]:
    """A probe that returns the JSON a server announced in `path`, once it has."""

    def probe() -> dict[str, Any] | None:
        try:
            facts: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return facts

    return probe


def http_ok(url: str) -> Callable[[], bool | None]:
    """A probe that returns True once GET `url` answers 200."""

    def probe() -> bool | None:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as answer:
                return True if answer.status == 200 else None
        except OSError:
            return None

    return probe


def post(url: str, content_type: str, body: bytes) -> tuple[int, bytes]:
    """POST `body` and return the status and the answer (HTTP errors included)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10.0) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
