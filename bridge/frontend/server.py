"""Running the frontend application on a TCP port until cancelled, then shutting it down cleanly.

The one place the frontend opens a listening socket; `rpcbridge frontend` and `rpcbridge up`
call `serve`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from bridge.calls import Invoker
from bridge.frontend.app import create_app
from bridge.frontend.realtime_hub import RealtimeSource
from bridge.settings import FrontendSettings

logger = logging.getLogger("rpcbridge.frontend")

# How long shutdown waits for requests in flight before closing their connections.
SHUTDOWN_GRACE_SECONDS: Final = 10.0


def url_for(address: Any) -> str:
    """The http:// URL of a bound socket address (an IPv4 or IPv6 `getsockname()` tuple)."""
    host, port = address[0], address[1]
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    return f"http://[{literal}]:{port}" if literal.version == 6 else f"http://{literal}:{port}"


async def serve(
    settings: FrontendSettings,
    invoker: Invoker,
    ready: Callable[[str], None] | None = None,
    realtime: RealtimeSource | None = None,
) -> None:
    """Serve the frontend on `settings.http_host:http_port` until cancelled.

    Args:
        realtime: the sidecar's realtime service, for `GET /ws`.
        ready: called once with the bound URL (say "http://127.0.0.1:41234") when listening; with
            `http_port` 0 the kernel picks the port, and this is how the caller learns it.
    """
    # No aiohttp access log: `request_log` writes one line per request already. aiohttp's keep-alive
    # timer closes a connection still waiting for a whole request line and headers when it fires
    # (from the connect, or from the previous response): that makes it the header read timeout,
    # so half a header (slowloris) holds a connection for http_header_timeout, not an hour.
    runner = web.AppRunner(
        create_app(settings, invoker, realtime),
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        keepalive_timeout=settings.http_header_timeout,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        url = url_for(runner.addresses[0])
        logger.info("frontend listening on %s", url)
        if ready is not None:
            ready(url)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        logger.info("frontend stopped")
