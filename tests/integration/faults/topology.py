"""The fault-injection topology: 2 workers, 2 sidecars, 2 frontends on PostgreSQL and Redis, and its faults.

Every process is a real `rpcbridge` role on 127.0.0.1 (bridge.testing.start_role). Faults are the
ones operators meet: SIGKILL and restart on the same port, SIGSTOP/SIGCONT, Redis closing the
sidecars' connections, PostgreSQL terminating their sessions (only this topology's, found by the
application_name in its database URL, so suites running beside it are not hit).
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bridge.store.nonce_stores import CLIENT_NAME
from bridge.testing import RunningProcess, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, POSTGRES_URL, REDIS_URL
from tests.integration.faults.load import http_ok, readyz
from tests.integration.stores.test_nonce_stores import kill_connections_named


def port_of(address: str) -> str:
    return address.rpartition(":")[2]


@dataclass
class Topology:
    """Two of each role; each frontend spreads calls over both sidecars, each sidecar over both workers."""

    scratch: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    workers: list[RunningProcess] = field(default_factory=list)
    sidecars: list[RunningProcess] = field(default_factory=list)
    frontends: list[RunningProcess] = field(default_factory=list)
    retired: list[RunningProcess] = field(default_factory=list)

    @property
    def application_name(self) -> str:
        return self.env["RPCBRIDGE_DATABASE_URL"].rpartition("application_name=")[2]

    def start(self) -> None:
        """Start workers, then sidecars, then frontends; wait until every frontend is ready."""
        name = f"rpcbridge-faults-{secrets.token_hex(4)}"
        self.env = {
            "RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16),
            "RPCBRIDGE_DATABASE_URL": f"{self.database_url}&application_name={name}",
            "RPCBRIDGE_REDIS_URL": REDIS_URL,
            # A frozen worker costs its calls this deadline (-32003), not the 30 s default.
            "RPCBRIDGE_DEFAULT_TIMEOUT": "2",
            # A dead sidecar's running jobs go to the other within seconds.
            "RPCBRIDGE_JOB_LEASE_SECONDS": "3",
            "RPCBRIDGE_JOB_HEARTBEAT_SECONDS": "1",
        }
        for _ in range(2):
            self.workers.append(self._worker("127.0.0.1:0"))
        for _ in range(2):
            self.sidecars.append(self._sidecar("0"))
        for _ in range(2):
            self.frontends.append(self._frontend("0"))
        for url in self.urls:
            wait_until(lambda url=url: http_ok(readyz(url)), timeout=30)

    @property
    def urls(self) -> list[str]:
        return [f"{frontend.facts['url']}/rpc" for frontend in self.frontends]

    def _role(self, role: str, args: list[str]) -> RunningProcess:
        common = ["--data-dir", str(self.scratch / "data")]
        return start_role(role, [*args, *common], self.scratch, self.env)

    def _worker(self, listen: str) -> RunningProcess:
        return self._role("worker", [EXAMPLE_WORKER, "--listen", listen])

    def _frontend(self, port: str) -> RunningProcess:
        # Sidecars restart on their own ports, so these addresses hold for the topology's life.
        sidecars = [arg for sidecar in self.sidecars for arg in ("--sidecar", sidecar.facts["grpc"])]
        return self._role("frontend", [*sidecars, "--http-port", port])

    def _sidecar(self, port: str) -> RunningProcess:
        args = ["--grpc-port", port, "--admin-port", "0"]
        for worker in self.workers:
            args += ["--worker", worker.facts["address"]]
        return self._role("sidecar", args)

    def restart_worker(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Kill worker `index` with `sig` and start a new one on the same address."""
        old = self.workers[index]
        old.stop(sig)
        self.retired.append(old)
        self.workers[index] = self._worker(old.facts["address"])

    def kill(self, role: str, index: int) -> None:
        """SIGKILL the "sidecar" or "frontend" numbered `index`: the calls in flight on it are lost,
        and a sidecar's call-log buffer with them."""
        self._started(role)[0][index].stop(signal.SIGKILL)

    def restart(self, role: str, index: int) -> None:
        """Start the "sidecar" or "frontend" numbered `index` again on its old port, where its
        callers (frontends, the load's balancer) look for it."""
        processes, start, address = self._started(role)
        old = processes[index]
        self.retired.append(old)
        processes[index] = start(port_of(old.facts[address]))

    def _started(self, role: str) -> tuple[list[RunningProcess], Callable[[str], RunningProcess], str]:
        """The running processes of `role`, how to start one on a port, and its address fact."""
        if role == "sidecar":
            return self.sidecars, self._sidecar, "grpc"
        return self.frontends, self._frontend, "url"

    def drop_redis_connections(self) -> int:
        """Close, from Redis's side, every nonce-store connection of the running sidecars."""
        names = [f"{CLIENT_NAME}-{sidecar.process.pid}" for sidecar in self.sidecars]
        return sum(asyncio.run(kill_connections_named(name)) for name in names)

    def terminate_postgres_sessions(self) -> int:
        """pg_terminate_backend on this topology's sessions only (by application_name)."""

        async def terminate() -> int:
            connection = await asyncpg.connect(POSTGRES_URL)
            try:
                rows = await connection.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = $1 AND pid <> pg_backend_pid()",
                    self.application_name,
                )
                return sum(1 for row in rows if row[0])
            finally:
                await connection.close()

        return asyncio.run(terminate())

    def stop(self) -> None:
        """Stop frontends, sidecars, workers (SIGCONT first: a frozen process cannot stop)."""
        for process in [*self.frontends, *self.sidecars, *self.workers, *self.retired]:
            if process.process.poll() is None:
                process.process.send_signal(signal.SIGCONT)
            process.stop()
