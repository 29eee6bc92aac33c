"""The frontend process's start-up (`rpcbridge frontend`): a sidecar client, and the HTTP server over it."""

from __future__ import annotations

from pathlib import Path

from bridge.frontend.server import serve as serve_frontend
from bridge.readiness import announce
from bridge.rpc.realtime_client import RealtimeClient
from bridge.rpc.sidecar_client import SidecarClient
from bridge.settings import Settings


async def run_frontend(settings: Settings, ready_file: Path | None) -> None:
    """Serve the HTTP frontend until cancelled."""
    frontend = settings.frontend
    client = SidecarClient(frontend.sidecar_addresses, frontend.stream_calls)
    # One sidecar's event stream feeds this frontend's sockets; every sidecar streams the same
    # history (docs/realtime.md), so the first listed is as good as any.
    realtime = RealtimeClient(frontend.sidecar_addresses[0])

    def ready(url: str) -> None:
        announce(ready_file, role="frontend", url=url)

    try:
        await serve_frontend(frontend, client, ready, realtime)
    finally:
        await realtime.aclose()
        await client.aclose()
