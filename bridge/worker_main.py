"""The worker process's start-up (`rpcbridge worker TARGET`): load the named `Worker`, serve it over gRPC."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bridge.errors import ConfigError
from bridge.readiness import announce
from bridge.rpc.worker_server import serve_worker
from bridge.settings import Settings
from bridge.targets import load_worker

if TYPE_CHECKING:
    from bridge.worker_metrics import WorkerMetrics


async def run_worker(settings: Settings, target: str, listen: str, ready_file: Path | None) -> None:
    """Serve the Worker that `target` names until cancelled."""
    secret = settings.checked_worker_secret()
    worker = load_worker(target)
    meter = None
    facts: dict[str, str] = {}
    if settings.metrics_port >= 0:
        meter = _worker_metrics()
        facts["metrics"] = meter.serve(settings.metrics_host, settings.metrics_port)

    def ready(address: str) -> None:
        announce(ready_file, role="worker", target=target, address=address, **facts)

    await serve_worker(worker, listen, secret, ready, settings.worker_tls, meter)


def _worker_metrics() -> WorkerMetrics:
    """The worker's metrics; prometheus_client is needed only when they are asked for."""
    try:
        from bridge.worker_metrics import WorkerMetrics
    except ImportError as exc:
        raise ConfigError(
            f"metrics_port needs prometheus_client ({exc}): pip install prometheus-client"
        ) from exc
    return WorkerMetrics()
