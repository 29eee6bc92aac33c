"""A sidecar in a network namespace of its own, cut off by taking its link down.

The namespace, the veth pair and its /30 are created here and removed in `finally`; nothing else
on the machine is touched. Needs root and iproute2 (CI runs as root); skipped, saying why, only
when `ip netns add` is refused.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.testing import RunningProcess, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER
from tests.integration.faults.load import call, is_clear

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def netns_refusal() -> str:
    """Why `ip netns add` cannot be used here, or "" when it can."""
    name = f"rpcbprobe{secrets.token_hex(3)}"
    try:
        ip("netns", "add", name)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"ip netns add is not permitted here: {getattr(exc, 'stderr', b'') or exc!r}"
    ip("netns", "del", name)
    return ""


@pytest.fixture
def namespace() -> Iterator[tuple[str, str, str, str]]:
    """(namespace, host-side link, host address, namespace address) on a fresh private /30."""
    if reason := netns_refusal():
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    name, host_link, inner_link = f"rpcbf{tag}", f"rbh{tag}", f"rbn{tag}"
    base = f"10.213.{secrets.randbelow(256)}.{4 * secrets.randbelow(64)}"
    prefix, _, last = base.rpartition(".")
    host_address, inner_address = f"{prefix}.{int(last) + 1}", f"{prefix}.{int(last) + 2}"
    try:
        ip("netns", "add", name)
        ip("link", "add", host_link, "type", "veth", "peer", "name", inner_link)
        ip("link", "set", inner_link, "netns", name)
        ip("addr", "add", f"{host_address}/30", "dev", host_link)
        ip("link", "set", host_link, "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"{inner_address}/30", "dev", inner_link)
        ip("netns", "exec", name, "ip", "link", "set", inner_link, "up")
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name, host_link, host_address, inner_address
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def answer(url: str, protocol: str) -> str:
    """ "ok", "clear" (a documented fault) or what else happened, for one math.add call."""
    try:
        kind, value = call(url, protocol, "math.add", [2, 3], secrets.token_hex(16))
    except Exception as exc:  # every failure is reported by the assertion
        return f"{type(exc).__name__}: {exc}"
    if kind == "result":
        return "ok" if value == 5 else f"wrong: {value!r}"
    return "clear" if is_clear(*value) else f"fault {value}"


def test_frontend_answers_clearly_while_its_sidecar_is_cut_off(
    tmp_path: Path, namespace: tuple[str, str, str, str]
) -> None:
    """Sidecar in its own namespace, link taken down: calls end with -32003/-32004, never hang or
    fail unclearly; link up again: calls succeed again."""
    name, host_link, host_address, inner_address = namespace
    env = {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16), "RPCBRIDGE_DEFAULT_TIMEOUT": "2"}
    data = ["--data-dir", str(tmp_path / "data")]
    started: list[RunningProcess] = []
    try:
        worker = start_role("worker", [EXAMPLE_WORKER, "--listen", f"{host_address}:0", *data], tmp_path, env)
        started.append(worker)
        sidecar_env = {**env, "RPCBRIDGE_GRPC_HOST": inner_address}
        sidecar_args = ["--grpc-port", "0", "--admin-port", "0", "--worker", worker.facts["address"], *data]
        sidecar = start_role(
            "sidecar", sidecar_args, tmp_path, sidecar_env, prefix=["ip", "netns", "exec", name]
        )
        started.append(sidecar)
        frontend_args = ["--sidecar", sidecar.facts["grpc"], "--http-port", "0", *data]
        frontend = start_role("frontend", frontend_args, tmp_path, env)
        started.append(frontend)
        url = f"{frontend.facts['url']}/rpc"
        wait_until(lambda: answer(url, "jsonrpc") == "ok", timeout=30)
        assert [answer(url, protocol) for protocol in ("xmlrpc", "jsonrpc")] == ["ok", "ok"]
        ip("link", "set", host_link, "down")
        cut_off = [answer(url, protocol) for protocol in ("xmlrpc", "jsonrpc") * 3]
        assert cut_off == ["clear"] * 6
        ip("link", "set", host_link, "up")
        wait_until(lambda: answer(url, "xmlrpc") == "ok", timeout=30, interval=0.5)
        assert answer(url, "jsonrpc") == "ok"
    finally:
        for process in reversed(started):
            process.stop()
