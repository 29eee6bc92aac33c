"""`rpcbridge conformance` passes both example workers and names what a bad worker gets wrong."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.testing import start_role
from tests.integration.conftest import EXAMPLE_WORKER
from tests.integration.node_worker import node_worker


def conformance(address: str, secret: str) -> tuple[int, list[str]]:
    """Run the kit as a user would; its exit status and printed lines."""
    completed = subprocess.run(
        [sys.executable, "-m", "bridge", "conformance", address, "--secret", secret],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return completed.returncode, completed.stdout.splitlines()


@pytest.fixture
def python_worker(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The Python example worker served by `rpcbridge worker`; yields its address and secret."""
    secret = secrets.token_hex(16)
    args = [EXAMPLE_WORKER, "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")]
    worker = start_role("worker", args, tmp_path, {"RPCBRIDGE_WORKER_SECRET": secret})
    try:
        yield worker.facts["address"], secret
    finally:
        worker.stop()


def checks(lines: list[str], verdict: str) -> list[str]:
    """Names of the checks printed with `verdict` ("PASS name -- reason")."""
    return [line.split(" -- ")[0].removeprefix(verdict + " ") for line in lines if line.startswith(verdict)]


def test_python_example_worker_passes_every_check(python_worker: tuple[str, str]) -> None:
    """Catalogue, proof, health, faults, every value kind, arity, deadline and InvokeStream all pass."""
    status, lines = conformance(*python_worker)
    assert status == 0, "\n".join(lines)
    assert checks(lines, "FAIL") == []
    assert checks(lines, "SKIP") == []
    passed = checks(lines, "PASS")
    expected = {"catalogue", "proof: Invoke without the proof", "health (server)", "unknown procedure"}
    expected |= {"value bytes", "arity: too many arguments", "deadline", "InvokeStream"}
    assert expected <= set(passed)


def test_node_example_worker_passes_every_check_that_applies() -> None:
    """The grpc-js worker passes everything; InvokeStream is skipped as unary only."""
    secret = secrets.token_hex(16)
    with node_worker(secret) as address:
        status, lines = conformance(address, secret)
    assert status == 0, "\n".join(lines)
    assert checks(lines, "FAIL") == []
    assert checks(lines, "SKIP") == ["InvokeStream"]
    expected = {"arity: too few arguments", "value decimal", "value datetime, with offset", "deadline"}
    assert expected <= set(checks(lines, "PASS"))


def test_a_worker_that_trusts_everyone_fails_the_proof_checks(tmp_path: Path) -> None:
    """A worker started without a secret runs calls that lack the proof: the kit says so and exits 1."""
    args = [EXAMPLE_WORKER, "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")]
    insecure = {"RPCBRIDGE_WORKER_SECRET": "", "RPCBRIDGE_WORKER_INSECURE": "true"}
    worker = start_role("worker", args, tmp_path, insecure)
    try:
        status, lines = conformance(worker.facts["address"], "a-secret-the-worker-does-not-check")
    finally:
        worker.stop()
    assert status == 1
    assert checks(lines, "FAIL") == [
        "proof: ListProcedures without the proof",
        "proof: Invoke without the proof",
        "proof: ListProcedures with a wrong proof",
        "proof: Invoke with a wrong proof",
        "InvokeStream without the proof",
    ]
    assert "FAIL proof: Invoke without the proof -- result 'x'" in lines
