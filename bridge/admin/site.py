"""The sidecar's admin web site on its own port (loopback by default): health, metrics, and the console.

Runs inside the sidecar process (`bridge.sidecar.main` starts it). `/healthz`, `/readyz` and
`/metrics` stay open (orchestrator probes); the console (`bridge.admin`) sits behind the admin login.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bridge.admin import MAX_FORM_BYTES, AdminConsole, install_console

REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
Readiness = Callable[[], Awaitable[list[str]]]
"""What keeps the sidecar from serving, if anything (bridge.sidecar.health)."""
READINESS_KEY: web.AppKey[Readiness] = web.AppKey("readiness")


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _readyz(request: web.Request) -> web.Response:
    problems = await request.app[READINESS_KEY]()
    if problems:
        return web.Response(status=503, text="not ready: " + "; ".join(problems))
    return web.Response(text="ready")


async def _no_problems() -> list[str]:
    return []


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_admin_app(
    registry: CollectorRegistry, console: AdminConsole | None = None, readiness: Readiness = _no_problems
) -> web.Application:
    """The admin application: `/healthz`, `/readyz` and `/metrics`, plus the console when given."""
    app = web.Application(client_max_size=MAX_FORM_BYTES)
    app[REGISTRY_KEY] = registry
    app[READINESS_KEY] = readiness
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    if console is not None:
        install_console(app, console)
    return app


class AdminSite:
    """A started admin site and the URL it is bound to."""

    def __init__(self, runner: web.AppRunner, url: str) -> None:
        self._runner = runner
        self.url = url

    async def stop(self) -> None:
        """Stop serving."""
        await self._runner.cleanup()


async def start_admin_site(app: web.Application, host: str, port: int) -> AdminSite:
    """Serve `app` on host:port (0 = kernel-chosen)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return AdminSite(runner, f"http://{host}:{bound_port}")
