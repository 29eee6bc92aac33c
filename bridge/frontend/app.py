"""The frontend's aiohttp application: routes, typed state and lifecycle, assembled in one place.

Only `bridge.frontend` imports aiohttp (DESIGN.md, Layout). Handlers receive their dependencies
when they are built here; the `AppKey`s below expose the same objects to other handlers and tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from aiohttp import web

from bridge.calls import Invoker
from bridge.frontend.dispatch import Dispatcher
from bridge.frontend.health import HealthEndpoints
from bridge.frontend.metrics import FrontendMetrics
from bridge.frontend.pickle_endpoint import PICKLE_PATH, PickleEndpoint
from bridge.frontend.realtime_hub import RealtimeHub, RealtimeSource
from bridge.frontend.request_log import request_envelope
from bridge.frontend.rpc_endpoint import RPC_PATHS, RpcEndpoint
from bridge.frontend.websocket_endpoint import CLOSE_GOING_AWAY, WS_PATH, WebSocketEndpoint
from bridge.settings import FrontendSettings

SETTINGS: Final = web.AppKey("settings", FrontendSettings)
INVOKER: Final = web.AppKey("invoker", Invoker)
DISPATCHER: Final = web.AppKey("dispatcher", Dispatcher)
METRICS: Final = web.AppKey("metrics", FrontendMetrics)
HEALTH: Final = web.AppKey("health", HealthEndpoints)
HUB: Final = web.AppKey("hub", RealtimeHub)


def _following(hub: RealtimeHub) -> Callable[[web.Application], AsyncIterator[None]]:
    """Follow the sidecar's event stream while the app runs."""

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.run())
        yield
        task.cancel()

    return lifecycle


def _closing(hub: RealtimeHub) -> Callable[[web.Application], Awaitable[None]]:
    """On shutdown, before aiohttp waits for handlers to end: close the sockets (1001)."""

    async def close(app: web.Application) -> None:
        hub.close_all(CLOSE_GOING_AWAY, "frontend shutting down")

    return close


def create_app(
    settings: FrontendSettings, invoker: Invoker, realtime: RealtimeSource | None = None
) -> web.Application:
    """Build the frontend application that answers RPC, health and metrics requests through `invoker`.

    Args:
        realtime: the sidecar's realtime service; with it `GET /ws` is served (docs/realtime.md).
    """
    # client_max_size bounds any handler that calls request.read(); the RPC routes read the
    # stream themselves so that an oversized body gets a protocol fault, not an HTML 413.
    app = web.Application(client_max_size=settings.limits.max_body_bytes, middlewares=[request_envelope])
    dispatcher = Dispatcher(invoker, settings.limits)
    metrics = FrontendMetrics()
    health = HealthEndpoints(invoker)
    app[SETTINGS] = settings
    app[INVOKER] = invoker
    app[DISPATCHER] = dispatcher
    app[METRICS] = metrics
    app[HEALTH] = health
    app.cleanup_ctx.append(health.lifecycle)

    rpc = RpcEndpoint(settings, dispatcher, metrics)
    for path in RPC_PATHS:
        app.router.add_post(path, rpc.handle)
    app.router.add_post(PICKLE_PATH, PickleEndpoint(settings, dispatcher, metrics).handle)
    if realtime is not None:
        hub = RealtimeHub(realtime, metrics)
        app[HUB] = hub
        app.cleanup_ctx.append(_following(hub))
        app.on_shutdown.append(_closing(hub))
        app.router.add_get(WS_PATH, WebSocketEndpoint(settings, dispatcher, hub, metrics).handle)
    app.router.add_get("/healthz", health.alive)
    app.router.add_get("/readyz", health.ready)
    app.router.add_get("/metrics", metrics.handle)
    return app
