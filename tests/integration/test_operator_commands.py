"""Operators' commands: `db migrate` with `auto_migrate = false`, `users set-scopes` and `users delete`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bridge.client import Fault, XMLRPCPoint, auth_params
from bridge.faults import FORBIDDEN, UNAUTHENTICATED
from bridge.testing import deployment, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER
from tests.integration.test_authentication import rpcbridge

NO_AUTO_MIGRATE = {"RPCBRIDGE_AUTO_MIGRATE": "false"}
SIDECAR_ARGS = ("--grpc-port", "0", "--admin-port", "0")


def test_without_auto_migrate_the_sidecar_waits_for_db_migrate(tmp_path: Path) -> None:
    """auto_migrate=false: the sidecar refuses a fresh database with a clear error until `db migrate` ran."""
    data_dir = tmp_path / "data"
    refused = subprocess.run(
        [sys.executable, "-m", "bridge", "sidecar", *SIDECAR_ARGS, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**NO_AUTO_MIGRATE, "PATH": "/usr/bin:/bin"},
    )
    assert refused.returncode == 1
    assert "run `rpcbridge db migrate`" in refused.stderr and "Traceback" not in refused.stderr
    assert rpcbridge(data_dir, "db", "migrate") == "schema at version 3: applied 1, 2, 3"
    assert rpcbridge(data_dir, "db", "migrate") == "schema at version 3: nothing to apply"
    sidecar = start_role(
        "sidecar",
        ["--grpc-port", "0", "--admin-port", "0", "--data-dir", str(data_dir)],
        tmp_path,
        NO_AUTO_MIGRATE,
    )
    assert sidecar.stop() == 0


def test_set_scopes_and_delete_take_effect_on_a_running_bridge(tmp_path: Path) -> None:
    """A running bridge sees `users set-scopes` (FORBIDDEN outside them) and `users delete`."""
    data_dir = tmp_path / "data"
    with deployment([EXAMPLE_WORKER], scratch=tmp_path) as running:
        key = rpcbridge(data_dir, "users", "add", "dave")
        with XMLRPCPoint(f"{running.url}/rpc", param_hook=lambda p: auth_params("dave", key) + p) as point:

            def whoami() -> str | int:
                """The caller's name, or the fault code."""
                try:
                    return str(point.account.whoami())
                except Fault as fault:
                    return fault.code

            assert whoami() == "dave"
            changed = rpcbridge(data_dir, "users", "set-scopes", "dave", "echo", "math.*")
            assert changed == "dave scopes=echo,math.*"
            assert "scopes=echo,math.*" in rpcbridge(data_dir, "users", "list")
            # The sidecar caches a user for up to a second (docs/auth.md).
            wait_until(lambda: whoami() == FORBIDDEN)
            rpcbridge(data_dir, "users", "set-scopes", "dave", "account.*")
            wait_until(lambda: whoami() == "dave")
            assert rpcbridge(data_dir, "users", "delete", "dave") == "dave deleted"
            wait_until(lambda: whoami() == UNAUTHENTICATED)
        assert "dave" not in rpcbridge(data_dir, "users", "list")
