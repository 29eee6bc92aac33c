"""`rpcbridge up`: a whole local deployment as separate child processes, stopped together.

Starts the workers and legacy adapters, then the sidecar (told their addresses), then the
frontend; waits until `/readyz` is green and prints the URLs. Legacy adapters start before the
sidecar yet log their outgoing calls to it, so they are told the sidecar's address in advance:
with `--grpc-port 0`, `up` picks a free port for the sidecar itself. On SIGINT/SIGTERM it stops
the frontend first, then the sidecar, then the workers, each gracefully. A child that dies on its
own is reported and the deployment is stopped with a non-zero exit status, never silently left
half-running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError
from bridge.readiness import read_announcement
from bridge.settings import ENV_PREFIX, Settings

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
WORKER_SECRET_VARIABLE = ENV_PREFIX + "WORKER_SECRET"


@dataclass
class Child:
    """One child process of the deployment."""

    name: str
    process: asyncio.subprocess.Process
    ready_file: Path


class ChildFailed(Exception):
    """A child exited or did not get ready during start-up."""


async def _spawn(name: str, args: Sequence[str], ready_file: Path, env: Mapping[str, str]) -> Child:
    # A session of its own: a terminal's Ctrl-C reaches only the supervisor, which then stops
    # the children in order.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        *args,
        "--ready-file",
        str(ready_file),
        start_new_session=True,
        env=env,
    )
    return Child(name, process, ready_file)


async def _wait_ready(child: Child) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        facts = read_announcement(child.ready_file)
        if facts is not None:
            return facts
        if child.process.returncode is not None:
            raise ChildFailed(f"{child.name} exited with status {child.process.returncode} during start-up")
        await asyncio.sleep(0.05)
    raise ChildFailed(f"{child.name} did not get ready within {START_TIMEOUT:.0f} s")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as answer:  # noqa: S310 -- our own loopback URL
            return bool(answer.status == 200)
    except OSError:
        return False


async def _wait_http_ready(url: str, children: Sequence[Child]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_http_ok, url):
            return
        for child in children:
            if child.process.returncode is not None:
                raise ChildFailed(f"{child.name} exited with status {child.process.returncode}")
        await asyncio.sleep(0.1)
    raise ChildFailed(f"{url} did not turn ready within {START_TIMEOUT:.0f} s")


async def _stop(children: Sequence[Child]) -> None:
    """Stop children in the given order: SIGTERM, then SIGKILL after STOP_TIMEOUT."""
    for child in children:
        if child.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    child.process.kill()
                await child.process.wait()


def child_environment(settings: Settings) -> dict[str, str]:
    """The children's environment: ours, plus a fresh worker secret when none is configured.

    With the secret, workers accept only calls that come through this deployment's sidecar.
    """
    env = dict(os.environ)
    if not settings.worker_secret:
        env[WORKER_SECRET_VARIABLE] = secrets.token_hex(32)
    return env


def _settings_flags(settings: Settings, config_file: Path | None) -> list[str]:
    flags = ["--data-dir", str(settings.data_dir)]
    return flags + (["--config", str(config_file)] if config_file is not None else [])


def parse_legacy(text: str) -> tuple[str, str]:
    """Split `up --legacy [PREFIX=]URL` into (prefix, URL); an "=" inside the URL is not a prefix."""
    prefix, equals, url = text.partition("=")
    if not equals or "://" in prefix:
        return "", text
    return prefix, url


def _free_port(host: str) -> int:
    """A port the kernel just gave out on `host`; another process could take it first, rarely."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _reachable_host(host: str) -> str:
    """Where a local child reaches a server listening on `host` (a wildcard means loopback)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 -- compared, not bound


def _legacy_args(spec: str, sidecar: str, common: Sequence[str]) -> list[str]:
    prefix, url = parse_legacy(spec)
    if not url:
        raise ConfigError(f"--legacy {spec!r}: give [PREFIX=]URL")
    return [
        "legacy",
        "--upstream",
        url,
        "--prefix",
        prefix,
        "--listen",
        "127.0.0.1:0",
        "--sidecar",
        sidecar,
        *common,
    ]


async def run_up(
    settings: Settings,
    config_file: Path | None,
    worker_targets: Sequence[str],
    legacy_upstreams: Sequence[str] = (),
    say: Callable[[str], None] = print,
) -> int:
    """Run the deployment until a signal arrives or a child dies; returns the exit status."""
    if not worker_targets and not legacy_upstreams:
        raise ConfigError("rpcbridge up needs at least one --worker TARGET or --legacy URL")
    grpc_port = settings.grpc_port
    if legacy_upstreams and grpc_port == 0:
        grpc_port = _free_port(settings.grpc_host or "127.0.0.1")
    sidecar_address = f"{_reachable_host(settings.grpc_host)}:{grpc_port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    common = _settings_flags(settings, config_file)
    env = child_environment(settings)
    workers: list[Child] = []
    servers: list[Child] = []
    with tempfile.TemporaryDirectory(prefix="rpcbridge-up-") as scratch:
        ready_dir = Path(scratch)
        try:
            for index, target in enumerate(worker_targets):
                args = ["worker", target, "--listen", "127.0.0.1:0", *common]
                workers.append(await _spawn(f"worker {target}", args, ready_dir / f"worker{index}.json", env))
            for index, spec in enumerate(legacy_upstreams):
                args = _legacy_args(spec, sidecar_address, common)
                workers.append(await _spawn(f"legacy {spec}", args, ready_dir / f"legacy{index}.json", env))
            addresses = [(await _wait_ready(child))["address"] for child in workers]
            sidecar_args = ["sidecar", "--grpc-port", str(grpc_port)]
            sidecar_args += ["--admin-port", str(settings.admin_port), *common]
            for address in addresses:
                sidecar_args += ["--worker", address]
            servers.append(await _spawn("sidecar", sidecar_args, ready_dir / "sidecar.json", env))
            sidecar = await _wait_ready(servers[0])
            frontend_args = ["frontend", "--sidecar", sidecar["grpc"], "--http-port", str(settings.http_port)]
            servers.insert(
                0, await _spawn("frontend", [*frontend_args, *common], ready_dir / "frontend.json", env)
            )
            frontend = await _wait_ready(servers[0])
            await _wait_http_ready(f"{frontend['url']}/readyz", [*servers, *workers])
        except ChildFailed as exc:
            say(f"rpcbridge: {exc}; stopping")
            await _stop([*servers, *workers])
            return 1
        say(f"rpcbridge is up: XML-RPC and JSON-RPC at {frontend['url']}/rpc")
        say(f"  gRPC (rpcbridge.v1.Worker) at {sidecar['grpc']}, admin at {sidecar['admin']}/")
        say(f"  workers: {', '.join(f'{c.name} at {a}' for c, a in zip(workers, addresses, strict=True))}")
        say("  press Ctrl-C to stop")
        status = await _supervise([*servers, *workers], stop, say)
        await _stop([*servers, *workers])
        say("rpcbridge stopped")
        return status


async def _supervise(children: Sequence[Child], stop: asyncio.Event, say: Callable[[str], None]) -> int:
    waits = {asyncio.ensure_future(child.process.wait()): child for child in children}
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([stopping, *waits], return_when=asyncio.FIRST_COMPLETED)
    for future in [stopping, *waits]:
        future.cancel()
    died = [waits[f] for f in done if f in waits]
    if stop.is_set() and not died:
        return 0
    for child in died:
        say(
            f"rpcbridge: {child.name} (pid {child.process.pid}) exited with status {child.process.returncode}"
        )
    say("rpcbridge: stopping the rest of the deployment")
    return 1
