"""`pip install rpcbridge` without the server extra: a worker and a client run from that environment."""

from __future__ import annotations

import importlib.metadata
import json
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.store.records import CallFilter
from bridge.testing import RunningProcess, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, ROOT
from tests.integration.test_client_kit import calls

SERVER_ONLY = {"aiohttp", "aiosqlite", "asyncpg", "redis", "cryptography", "jinja2", "prometheus-client"}
# Building the wheel and installing grpcio into a new virtualenv takes a while on a busy machine.
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv holding the project's wheel and its core dependencies only; returns its bin/."""
    scratch = tmp_path_factory.mktemp("light")
    run = {"check": True, "timeout": 240, "capture_output": True}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", scratch, ROOT], **run)
    subprocess.run([sys.executable, "-m", "venv", scratch / "venv"], **run)
    (wheel,) = scratch.glob("rpcbridge-*.whl")
    pip = [scratch / "venv" / "bin" / "python", "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-c", ROOT / "constraints.txt", wheel], **run)
    return scratch / "venv" / "bin"


def test_light_install_holds_no_server_package(light: Path) -> None:
    """The core install has gRPC and protobuf but none of the server extra's packages."""
    listing = subprocess.run(
        [light / "python", "-m", "pip", "list", "--format=json"], check=True, capture_output=True, timeout=60
    )
    names = {package["name"].lower() for package in json.loads(listing.stdout)}
    assert {"rpcbridge", "grpcio", "protobuf"} <= names
    assert not names & SERVER_ONLY
    version = subprocess.run([light / "rpcbridge", "--version"], check=True, capture_output=True, timeout=60)
    assert version.stdout.decode().split() == ["rpcbridge", importlib.metadata.version("rpcbridge")]


@pytest.fixture
def light_worker(light: Path, tmp_path: Path) -> Iterator[tuple[RunningProcess, dict[str, str]]]:
    """The example worker served by the light environment's `rpcbridge worker`."""
    env = {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16)}
    args = [EXAMPLE_WORKER, "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")]
    worker = start_role("worker", args, tmp_path, env, launcher=[str(light / "rpcbridge")])
    try:
        yield worker, env
    finally:
        worker.stop()


def test_worker_and_client_from_the_light_install_work_through_a_bridge(
    light: Path, light_worker: tuple[RunningProcess, dict[str, str]], tmp_path: Path
) -> None:
    """A full bridge routes a light client's XML-RPC call to a light worker and logs it as outgoing too."""
    worker, env = light_worker
    common = ["--data-dir", str(tmp_path / "data")]
    sidecar = start_role(
        "sidecar",
        ["--grpc-port", "0", "--admin-port", "0", "--worker", worker.facts["address"], *common],
        tmp_path,
        env,
    )
    try:
        frontend = start_role(
            "frontend", ["--sidecar", sidecar.facts["grpc"], "--http-port", "0", *common], tmp_path, env
        )
        try:
            client = textwrap.dedent(f"""
                from bridge.client import XMLRPCPoint
                point = XMLRPCPoint({frontend.facts["url"] + "/rpc"!r}, sidecar={sidecar.facts["grpc"]!r})
                print(point.math.add(2, 40))
            """)
            # Run from the scratch directory, so the wheel's `bridge` is imported, not the checkout's.
            answer = subprocess.run(
                [light / "python", "-c", client], cwd=tmp_path, check=True, capture_output=True, timeout=60
            )
            assert answer.stdout.decode().strip() == "42"
            wait_until(
                lambda: calls(tmp_path / "data", CallFilter(direction="outgoing", procedure="math.add"))
            )
        finally:
            frontend.stop()
    finally:
        sidecar.stop()
