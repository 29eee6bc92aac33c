"""The sidecar's admin web site on its own port (loopback by default): health, metrics, and the console.

Runs inside the sidecar process (`bridge.sidecar.main` starts it). `/healthz` and `/metrics` stay
open; the console (`bridge.admin`) sits behind the admin login.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bridge.admin import MAX_FORM_BYTES, AdminConsole, install_console

REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_admin_app(registry: CollectorRegistry, console: AdminConsole | None = None) -> web.Application:
    """The admin application: `/healthz` and `/metrics`, plus the admin console when `console` is given."""
    app = web.Application(client_max_size=MAX_FORM_BYTES)
    app[REGISTRY_KEY] = registry
    app.router.add_get("/healthz", _healthz)
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
