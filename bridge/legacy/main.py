"""The legacy adapter process's start-up (`rpcbridge legacy URL`): discover the upstream, serve it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.legacy.adapter import build_adapter
from bridge.legacy.upstream import UpstreamConfig
from bridge.readiness import announce
from bridge.rpc.worker_server import serve_worker
from bridge.settings import Settings


async def run_legacy(
    settings: Settings, upstream: UpstreamConfig, listen: str, ready_file: Path | None
) -> None:
    """Serve a legacy adapter, a worker forwarding to `upstream`, until cancelled."""
    secret = settings.checked_worker_secret()
    adapter = await asyncio.to_thread(build_adapter, upstream)

    def ready(address: str) -> None:
        names = [info.name for info in adapter.describe()]
        announce(ready_file, role="legacy", upstream=upstream.display_url, address=address, procedures=names)

    try:
        await serve_worker(adapter, listen, secret, ready, settings.worker_tls)
    finally:
        await asyncio.to_thread(adapter.close)
