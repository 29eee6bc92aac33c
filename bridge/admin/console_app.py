"""Puts the admin console's pages, access guard and stylesheet onto the admin application, once."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from bridge.admin.access_guard import HOME_PATH, LOGIN_PATH, access_guard, see_other
from bridge.admin.call_log_pages import CallLogPages
from bridge.admin.catalogue_page import CataloguePage
from bridge.admin.console import AdminConsole
from bridge.admin.events_page import EventsPage
from bridge.admin.login_pages import LoginPages
from bridge.admin.login_throttle import LoginThrottle, in_process
from bridge.admin.overview_page import OverviewPage
from bridge.admin.rendering import EVENTS_SCRIPT_PATH, STYLESHEET_PATH, PageRenderer
from bridge.admin.sessions import SessionSigner
from bridge.admin.user_pages import UserPages
from bridge.admin.webhook_pages import DELIVERIES_PATH, EVENTS_PATH, WEBHOOKS_PATH, WebhookPages

CONSOLE: Final = web.AppKey("admin_console", AdminConsole)
SIGNER: Final = web.AppKey("admin_session_signer", SessionSigner)
# Forms hold a few short fields; anything bigger is not ours.
MAX_FORM_BYTES: Final = 64 * 1024


async def _home(request: web.Request) -> web.Response:
    return see_other(HOME_PATH)


def install_console(app: web.Application, console: AdminConsole) -> None:
    """Add the console's routes and its access guard to `app` (which must not be frozen yet)."""
    signer = SessionSigner(console.session_key)
    renderer = PageRenderer(signer, webhooks=console.webhooks is not None)
    app[CONSOLE] = console
    app[SIGNER] = signer
    app.middlewares.append(access_guard(signer, console.admin, renderer))

    throttle = console.login_attempts or in_process(LoginThrottle())
    login = LoginPages(signer, console.admin, renderer, throttle, console.trusted_proxies)
    calls = CallLogPages(console, renderer)
    users = UserPages(console, renderer)
    catalogue = CataloguePage(console, renderer)
    overview = OverviewPage(console, renderer)
    router = app.router
    router.add_get(STYLESHEET_PATH, renderer.serve_stylesheet)
    router.add_get(LOGIN_PATH, login.show)
    router.add_post(LOGIN_PATH, login.submit)
    router.add_post("/logout", login.logout)
    router.add_get("/", _home)
    router.add_get("/overview", overview.show)
    router.add_get("/calls", calls.list_calls)
    router.add_get(r"/calls/{record_id:\d+}", calls.show_call)
    router.add_get("/users", users.list_users)
    router.add_post("/users", users.create_user)
    router.add_post("/users/{name}/disable", users.disable_user)
    router.add_post("/users/{name}/enable", users.enable_user)
    router.add_post("/users/{name}/rotate-key", users.rotate_key)
    router.add_post("/users/{name}/revoke-old-keys", users.revoke_older_keys)
    router.add_get("/procedures", catalogue.show)
    if console.webhooks is not None:
        webhooks = WebhookPages(console, console.webhooks, renderer)
        router.add_get(WEBHOOKS_PATH, webhooks.list_listeners)
        router.add_post(WEBHOOKS_PATH, webhooks.add_listener)
        router.add_post(WEBHOOKS_PATH + "/{listener_id}/enable", webhooks.enable_listener)
        router.add_post(WEBHOOKS_PATH + "/{listener_id}/disable", webhooks.disable_listener)
        router.add_post(WEBHOOKS_PATH + "/{listener_id}/rotate-secret", webhooks.rotate_secret)
        router.add_post(WEBHOOKS_PATH + "/{listener_id}/delete", webhooks.remove_listener)
        router.add_get(WEBHOOKS_PATH + "/{listener_id}/deliveries", webhooks.listener_deliveries)
        router.add_get(DELIVERIES_PATH, webhooks.recent_deliveries)
        router.add_post(DELIVERIES_PATH + "/{delivery_id}/redeliver", webhooks.redeliver)
        router.add_get(EVENTS_PATH, webhooks.recent_events)
    router.add_get(EVENTS_SCRIPT_PATH, renderer.serve_events_script)
    router.add_get("/events/live", EventsPage(console.frontend_url, renderer).show)
