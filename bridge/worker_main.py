"""The worker process's start-up (`rpcbridge worker TARGET`): load the named `Worker`, serve it over gRPC."""

from __future__ import annotations

from pathlib import Path

from bridge.readiness import announce
from bridge.rpc.worker_server import serve_worker
from bridge.settings import Settings
from bridge.targets import load_worker


async def run_worker(settings: Settings, target: str, listen: str, ready_file: Path | None) -> None:
    """Serve the Worker that `target` names until cancelled."""
    secret = settings.checked_worker_secret()
    worker = load_worker(target)

    def ready(address: str) -> None:
        announce(ready_file, role="worker", target=target, address=address)

    await serve_worker(worker, listen, secret, ready, settings.worker_tls)
