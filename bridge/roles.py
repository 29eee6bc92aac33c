"""What each process runs: worker, sidecar, frontend. Wires the layers together, once, at start-up.

The only place where the gRPC package (`bridge.rpc`) and the HTTP package (`bridge.frontend`) meet.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.frontend.admin_site import create_admin_app, start_admin_site
from bridge.frontend.server import serve as serve_frontend
from bridge.readiness import announce
from bridge.rpc.sidecar_client import SidecarClient
from bridge.rpc.sidecar_server import SidecarService, start_sidecar_server
from bridge.rpc.worker_pool import WorkerPool
from bridge.rpc.worker_server import serve_worker
from bridge.settings import Settings
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.metrics import SidecarMetrics
from bridge.sidecar.observation import ObserveCalls, write_access_line
from bridge.targets import load_worker


async def run_worker(settings: Settings, target: str, listen: str, ready_file: Path | None) -> None:
    """Serve the Worker that `target` names until cancelled."""
    worker = load_worker(target)

    def ready(address: str) -> None:
        announce(ready_file, role="worker", target=target, address=address)

    await serve_worker(worker, listen, settings.worker_secret, ready)


async def run_sidecar(settings: Settings, ready_file: Path | None) -> None:
    """Serve the sidecar (gRPC proxy and admin site) until cancelled."""
    catalogue = Catalogue()
    pool = WorkerPool(catalogue, settings.workers, settings.worker_secret, settings.catalogue_refresh_seconds)
    metrics = SidecarMetrics()
    service = SidecarService(pool, [ObserveCalls([write_access_line, metrics.observe])], settings.max_timeout)
    await pool.start()
    server = await start_sidecar_server(service, f"{settings.grpc_host}:{settings.grpc_port}")
    admin = await start_admin_site(create_admin_app(metrics.registry), settings.admin_host, settings.admin_port)
    announce(ready_file, role="sidecar", grpc=server.address, admin=admin.url)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
        await admin.stop()
        await pool.aclose()


async def run_frontend(settings: Settings, ready_file: Path | None) -> None:
    """Serve the HTTP frontend until cancelled."""
    client = SidecarClient(settings.sidecar_address)

    def ready(url: str) -> None:
        announce(ready_file, role="frontend", url=url)

    try:
        await serve_frontend(settings, client, ready)
    finally:
        await client.aclose()
