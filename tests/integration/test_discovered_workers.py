"""Workers found by name and re-resolved, `up --worker-address`, and the worker secret refused
when empty unless insecure is chosen: real worker processes on 127.0.0.x."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509

from bridge.calls import Call
from bridge.rpc.values import call_to_request, from_value
from bridge.settings import TlsFiles
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.worker_pool import WorkerPool
from bridge.testing import RunningProcess, start_role, start_up
from rpcbridge.v1 import worker_pb2
from tests.integration.conftest import EXAMPLE_WORKER, refused_start, xmlrpc_call
from tests.integration.test_worker_mtls import write_pki

ECHO = call_to_request(Call("echo", ("found",))).SerializeToString()


def start_worker(listen: str, scratch: Path, env: dict[str, str]) -> RunningProcess:
    return start_role(
        "worker", [EXAMPLE_WORKER, "--listen", listen, "--data-dir", str(scratch)], scratch, env
    )


class ChangingDns:
    """Resolves the one name the test uses to whatever addresses the test set last."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        assert host == "workers.test"
        return list(self.hosts)


@pytest.mark.timeout(120)
async def test_a_worker_added_behind_the_name_is_routed_without_restart(tmp_path: Path) -> None:
    """Two workers on one port at 127.0.0.1 and 127.0.0.2: the pool follows the name's addresses."""
    secret = secrets.token_hex(16)
    env = {"RPCBRIDGE_WORKER_SECRET": secret}
    first = start_worker("127.0.0.1:0", tmp_path, env)
    port = int(first.facts["address"].rpartition(":")[2])
    second = start_worker(f"127.0.0.2:{port}", tmp_path, env)
    dns = ChangingDns()
    dns.hosts = ["127.0.0.1"]
    catalogue = Catalogue()
    pool = WorkerPool(catalogue, [f"dns:///workers.test:{port}"], secret, resolver=dns)
    try:
        await pool.start()
        assert catalogue.workers()["echo"] == [f"127.0.0.1:{port}"]
        dns.hosts = ["127.0.0.1", "127.0.0.2"]
        await pool.refresh()
        assert catalogue.workers()["echo"] == [f"127.0.0.1:{port}", f"127.0.0.2:{port}"]
        answer = await pool.invoke(f"127.0.0.2:{port}", ECHO, [], 5)
        assert isinstance(answer, bytes)
        assert from_value(worker_pb2.InvokeResponse.FromString(answer).result) == "found"
        dns.hosts = ["127.0.0.2"]
        await pool.refresh()
        assert catalogue.workers()["echo"] == [f"127.0.0.2:{port}"]
    finally:
        await pool.aclose()
        first.stop()
        second.stop()


@pytest.mark.timeout(120)
async def test_with_mtls_a_resolved_worker_is_checked_against_its_name(tmp_path: Path) -> None:
    """The worker's certificate names workers.test, not its address: the pool verifies the name."""
    pki = write_pki(tmp_path, "bridge-ca", x509.DNSName("workers.test"))
    env = {f"RPCBRIDGE_WORKER_TLS_{part.upper()}": str(path) for part, path in pki.items()}
    worker = start_worker("127.0.0.1:0", tmp_path, env)
    port = int(worker.facts["address"].rpartition(":")[2])
    dns = ChangingDns()
    dns.hosts = ["127.0.0.1"]
    catalogue = Catalogue()
    tls = TlsFiles(pki["ca"], pki["cert"], pki["key"])
    pool = WorkerPool(catalogue, [f"workers.test:{port}"], tls=tls, resolver=dns)
    try:
        await pool.start()
        assert catalogue.workers()["echo"] == [f"127.0.0.1:{port}"]
    finally:
        await pool.aclose()
        worker.stop()


@pytest.mark.timeout(120)
def test_a_sidecar_finds_workers_by_host_name(tmp_path: Path) -> None:
    """`--worker localhost:PORT` resolves the name: the worker on 127.0.0.1 serves calls."""
    env = {"RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16)}
    worker = start_worker("127.0.0.1:0", tmp_path, env)
    port = worker.facts["address"].rpartition(":")[2]
    common = ["--data-dir", str(tmp_path / "data")]
    sidecar = start_role(
        "sidecar",
        ["--grpc-port", "0", "--admin-port", "0", "--worker", f"dns:///localhost:{port}", *common],
        tmp_path,
        env,
    )
    frontend = start_role(
        "frontend", ["--sidecar", sidecar.facts["grpc"], "--http-port", "0", *common], tmp_path, env
    )
    try:
        assert xmlrpc_call(frontend.facts["url"] + "/rpc", "echo", "by name") == "by name"
        assert f"127.0.0.1:{port}" in sidecar.log()
    finally:
        for process in (frontend, sidecar, worker):
            process.stop()


@pytest.mark.timeout(120)
def test_up_routes_to_an_already_running_worker(tmp_path: Path) -> None:
    """`rpcbridge up --worker-address HOST:PORT` alone makes a deployment around a running worker."""
    secret = secrets.token_hex(16)
    worker = start_worker("127.0.0.1:0", tmp_path, {"RPCBRIDGE_WORKER_SECRET": secret})
    try:
        up = start_up(
            ["--worker-address", worker.facts["address"]],
            tmp_path / "data",
            {"RPCBRIDGE_WORKER_SECRET": secret},
        )
        try:
            assert xmlrpc_call(up.url, "echo", "already running") == "already running"
        finally:
            assert up.stop() == 0
    finally:
        worker.stop()


@pytest.mark.parametrize("role", ["worker", "sidecar"])
def test_an_empty_worker_secret_is_refused_at_start(role: str, tmp_path: Path) -> None:
    """Without a secret, mTLS or worker_insecure, `worker` and `sidecar` exit 2 with one line."""
    args = [EXAMPLE_WORKER, "--listen", "127.0.0.1:0"] if role == "worker" else ["--grpc-port", "0"]
    error = refused_start([role, *args, "--data-dir", str(tmp_path)], {"RPCBRIDGE_WORKER_SECRET": ""})
    assert error.startswith("rpcbridge: error: worker_secret is empty")


def test_an_insecure_worker_starts_with_a_warning(tmp_path: Path) -> None:
    """worker_insecure = true is the explicit way to run without a secret, and it is logged."""
    worker = start_worker(
        "127.0.0.1:0", tmp_path, {"RPCBRIDGE_WORKER_SECRET": "", "RPCBRIDGE_WORKER_INSECURE": "true"}
    )
    try:
        assert "WARNING" in worker.log() and "worker_insecure" in worker.log()
    finally:
        worker.stop()
