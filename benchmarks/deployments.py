"""What each scenario runs: how its servers are started, the URL its clients post to, and who they are.

Every deployment binds 127.0.0.1 on kernel-chosen ports and reports where it listens (ready file
or log line); every process it starts belongs to the `ServerSet` it is given, pinned to one CPU.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.payloads import (
    BENCH_USER,
    JSONRPC_ECHO,
    JSONRPC_WHOAMI,
    XMLRPC_ECHO,
    XMLRPC_WHOAMI,
    ApiUser,
    Payload,
)
from benchmarks.processes import Server, ServerFailed, ServerSet, http_ok, read_ready_file, wait_for

WORKER_TARGET = "examples/example_worker.py"
UP_BANNER = re.compile(r"rpcbridge is up: XML-RPC and JSON-RPC at (http://127\.0\.0\.1:\d+/rpc)")
GUNICORN_LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
# gunicorn's rule of thumb is (2 x cores) + 1 workers; gthread keeps client connections alive.
GUNICORN_OPTIONS = ("--worker-class", "gthread", "--workers", "3", "--threads", "2")
# The sidecar writes a call-log record per call (batched into SQLite) and the one access-log line
# per call at INFO; these turn off the first, and both.
CALL_LOG_OFF = {"RPCBRIDGE_LOG_INCOMING": "false"}
LOGS_OFF = {**CALL_LOG_OFF, "RPCBRIDGE_LOG_LEVEL": "WARNING"}
# Every hop a unary gRPC call instead of a call on a multiplexed stream (docs/concepts.md).
UNARY_HOPS = {"RPCBRIDGE_STREAM_CALLS": "false"}


@dataclass(frozen=True, slots=True)
class Paths:
    """Where things are: the repository, both virtualenvs' bin/, and this run's scratch directory."""

    root: Path
    project_bin: Path
    bench_bin: Path
    scratch: Path


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a started deployment is called, and the API user that signs its calls (if they need one)."""

    url: str
    user: ApiUser | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    """One scenario: a label, whether it is the bridge, the bodies it is measured with, and its start-up."""

    key: str
    label: str
    payloads: tuple[Payload, ...]
    start: Callable[[ServerSet, Paths], Endpoint]
    is_bridge: bool = False
    # Said under the table, where a figure needs it to be read right.
    note: str = ""
    # Set on the full path with one thing changed: what changed, as the ratios name it.
    variant: str = ""
    # Servers and wrk unpinned, sharing every CPU, instead of one CPU each.
    both_cores: bool = False


def _fresh(path: Path) -> Path:
    """`path`, with any ready file an earlier run left there removed."""
    path.unlink(missing_ok=True)
    return path


def _log_match(server: Server, pattern: re.Pattern[str]) -> Callable[[], str | None]:
    def probe() -> str | None:
        found = pattern.search(server.log_text())
        return found.group(1) if found else None

    return probe


def _start_up(servers: ServerSet, paths: Paths, name: str, data_dir: Path, env: dict[str, str]) -> str:
    """`rpcbridge up` with a fresh data directory and `env` added; returns its /rpc URL."""
    argv = [str(paths.project_bin / "rpcbridge"), "up", "--worker", WORKER_TARGET]
    argv += ["--http-port", "0", "--grpc-port", "0", "--admin-port", "0", "--data-dir", str(data_dir)]
    up = servers.start(name, argv, paths.root, env=env)
    url: str = wait_for(up, _log_match(up, UP_BANNER), "'rpcbridge is up' line")
    up.note_descendants()
    return url


def start_bridge_full(servers: ServerSet, paths: Paths) -> Endpoint:
    """`rpcbridge up`: frontend -> sidecar -> worker, as a user starts it (children inherit the pinning)."""
    return Endpoint(_start_up(servers, paths, "rpcbridge up", paths.scratch / "bridge-data", {}))


def bridge_with(key: str, env: dict[str, str]) -> Callable[[ServerSet, Paths], Endpoint]:
    """A starter for the full path with `env` added (one setting changed), in its own data directory."""

    def start(servers: ServerSet, paths: Paths) -> Endpoint:
        return Endpoint(
            _start_up(servers, paths, f"rpcbridge up ({key})", paths.scratch / f"{key}-data", env)
        )

    return start


def start_bridge_authenticated(servers: ServerSet, paths: Paths) -> Endpoint:
    """The full path with an API user, created after start-up: the sidecar reads users on each check."""
    data_dir = paths.scratch / "bridge-auth-data"
    url = _start_up(servers, paths, "rpcbridge up auth", data_dir, {})
    argv = [str(paths.project_bin / "python"), "-m", "bridge", "users", "add", BENCH_USER]
    printed = servers.run_once([*argv, "--data-dir", str(data_dir)], paths.root).split()
    if not printed:
        raise ServerFailed(f"`rpcbridge users add {BENCH_USER}` printed no key")
    return Endpoint(url, ApiUser(BENCH_USER, printed[-1]))


def start_bridge_one_hop(servers: ServerSet, paths: Paths) -> Endpoint:
    """A worker and a frontend whose `--sidecar` is the worker itself: the sidecar hop taken out."""
    python = str(paths.project_bin / "python")
    common = ["--data-dir", str(paths.scratch / "one-hop-data")]
    worker_ready = _fresh(paths.scratch / "one-hop-worker.json")
    worker_argv = [python, "-m", "bridge", "worker", WORKER_TARGET, "--listen", "127.0.0.1:0"]
    # No sidecar holds a secret for it: the frontend calls this worker directly, on loopback.
    worker = servers.start(
        "one-hop worker",
        [*worker_argv, "--ready-file", str(worker_ready), *common],
        paths.root,
        env={"RPCBRIDGE_WORKER_INSECURE": "true"},
    )
    address = wait_for(worker, read_ready_file(worker_ready), "ready file")["address"]
    frontend_ready = _fresh(paths.scratch / "one-hop-frontend.json")
    frontend_argv = [python, "-m", "bridge", "frontend", "--sidecar", address, "--http-port", "0"]
    frontend = servers.start(
        "one-hop frontend", [*frontend_argv, "--ready-file", str(frontend_ready), *common], paths.root
    )
    base: str = wait_for(frontend, read_ready_file(frontend_ready), "ready file")["url"]
    wait_for(frontend, http_ok(f"{base}/readyz"), "green /readyz")
    return Endpoint(f"{base}/rpc")


def _start_stdlib(servers: ServerSet, paths: Paths, keep_alive: bool) -> str:
    ready = _fresh(paths.scratch / f"stdlib-{'http11' if keep_alive else 'http10'}.json")
    argv = [str(paths.project_bin / "python"), "-m", "benchmarks.stdlib_server", "--ready-file", str(ready)]
    server = servers.start("stdlib xmlrpc", [*argv, "--keep-alive"] if keep_alive else argv, paths.root)
    url: str = wait_for(server, read_ready_file(ready), "ready file")["url"]
    return url


def start_stdlib(servers: ServerSet, paths: Paths) -> Endpoint:
    """SimpleXMLRPCServer as shipped: single-threaded, HTTP/1.0, one request per connection."""
    return Endpoint(_start_stdlib(servers, paths, keep_alive=False))


def start_stdlib_keep_alive(servers: ServerSet, paths: Paths) -> Endpoint:
    """SimpleXMLRPCServer answering HTTP/1.1: connections reused, but served one at a time."""
    return Endpoint(_start_stdlib(servers, paths, keep_alive=True))


def start_django(servers: ServerSet, paths: Paths) -> Endpoint:
    """django-modern-rpc in the smallest Django project, under gunicorn, from the bench virtualenv."""
    argv = [str(paths.bench_bin / "gunicorn"), "--no-control-socket", "--bind", "127.0.0.1:0"]
    argv += [*GUNICORN_OPTIONS, "--chdir", str(paths.root), "benchmarks.django_echo.wsgi:application"]
    env = {"DJANGO_SETTINGS_MODULE": "benchmarks.django_echo.settings"}
    server = servers.start("gunicorn django", argv, paths.root, env=env, stop_signal=signal.SIGQUIT)
    base: str = wait_for(server, _log_match(server, GUNICORN_LISTENING), "'Listening at' line")
    return Endpoint(f"{base}/rpc")


def start_ceiling(servers: ServerSet, paths: Paths) -> Endpoint:
    """A bare aiohttp handler answering every POST with fixed bytes."""
    ready = _fresh(paths.scratch / "ceiling.json")
    argv = [str(paths.project_bin / "python"), "-m", "benchmarks.ceiling_server", "--ready-file", str(ready)]
    server = servers.start("aiohttp ceiling", argv, paths.root)
    url: str = wait_for(server, read_ready_file(ready), "ready file")["url"]
    return Endpoint(url)


DEPLOYMENTS = (
    Deployment(
        "bridge",
        "rpcbridge up (frontend -> sidecar -> worker)",
        (XMLRPC_ECHO, JSONRPC_ECHO),
        start_bridge_full,
        is_bridge=True,
    ),
    Deployment(
        "bridge-both-cores",
        "rpcbridge up, both cores",
        (XMLRPC_ECHO, JSONRPC_ECHO),
        bridge_with("bridge-both-cores", {}),
        is_bridge=True,
        note="the full path unpinned: its processes and wrk share both CPUs; compare its requests/s "
        "with the full path's on one core",
        variant="both cores",
        both_cores=True,
    ),
    Deployment(
        "bridge-no-call-log",
        "rpcbridge up, call log off",
        (XMLRPC_ECHO, JSONRPC_ECHO),
        bridge_with("bridge-no-call-log", CALL_LOG_OFF),
        is_bridge=True,
        note="RPCBRIDGE_LOG_INCOMING=false: the sidecar records no call in the call log (SQLite)",
        variant="call log off",
    ),
    Deployment(
        "bridge-no-logs",
        "rpcbridge up, call log and access log off",
        (XMLRPC_ECHO, JSONRPC_ECHO),
        bridge_with("bridge-no-logs", LOGS_OFF),
        is_bridge=True,
        note="RPCBRIDGE_LOG_INCOMING=false and RPCBRIDGE_LOG_LEVEL=WARNING: no call log, and no "
        "access-log line (one per call, at INFO)",
        variant="call log and access log off",
    ),
    Deployment(
        "bridge-unary",
        "rpcbridge up, unary gRPC hops",
        (XMLRPC_ECHO, JSONRPC_ECHO),
        bridge_with("bridge-unary", UNARY_HOPS),
        is_bridge=True,
        note="RPCBRIDGE_STREAM_CALLS=false: one unary gRPC call per hop instead of calls batched on "
        "one stream per connection",
        variant="unary hops",
    ),
    Deployment(
        "bridge-auth",
        "rpcbridge up, authenticated",
        (XMLRPC_WHOAMI, JSONRPC_WHOAMI),
        start_bridge_authenticated,
        is_bridge=True,
        note=f"calls account.whoami (auth=True) as API user {BENCH_USER}, every request signed with "
        "rpcenable params and a nonce of its own; answers must carry the username",
        variant="authenticated",
    ),
    Deployment(
        "one-hop",
        "rpcbridge one hop (frontend -> worker)",
        (XMLRPC_ECHO, JSONRPC_ECHO),
        start_bridge_one_hop,
        is_bridge=True,
    ),
    Deployment("stdlib", "SimpleXMLRPCServer, HTTP/1.0 (as shipped)", (XMLRPC_ECHO,), start_stdlib),
    Deployment(
        "stdlib-keepalive",
        "SimpleXMLRPCServer, HTTP/1.1 keep-alive",
        (XMLRPC_ECHO,),
        start_stdlib_keep_alive,
        note="single-threaded with keep-alive, it serves one connection until that client closes it: "
        "one of wrk's 32 connections gets every answer, the other 31 wait, and wrk records no timeout "
        "for them, so its latency describes one client, not 32",
    ),
    Deployment("django", "django-modern-rpc 2.1.0 on gunicorn", (XMLRPC_ECHO, JSONRPC_ECHO), start_django),
    Deployment(
        "ceiling",
        "aiohttp, fixed answer (ceiling)",
        (XMLRPC_ECHO,),
        start_ceiling,
        note="reads the body and sends a fixed XML-RPC answer: no decoding, no call, no hop",
    ),
)
