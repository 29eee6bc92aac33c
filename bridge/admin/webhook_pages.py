"""Webhook listeners, their deliveries and recent events in the admin console (docs/events.md).

A listener's secret is shown once, in the answer to the POST that made or rotated it; every other
action redirects back (post/redirect/get) with a notice. Listener input is checked by the same
function as `rpcbridge webhooks add` (passed in `WebhookConsole.check`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from bridge.admin.access_guard import not_found, safe_next, see_other
from bridge.admin.console import AdminConsole, WebhookConsole
from bridge.admin.rendering import PageRenderer
from bridge.events.webhook_signing import new_secret
from bridge.store.webhook_records import ADMIN_OWNER, Delivery

WEBHOOKS_PATH: Final = "/webhooks"
DELIVERIES_PATH: Final = "/deliveries"
EVENTS_PATH: Final = "/events"
PAGE_SIZE: Final = 100
NOTICES: Final = {
    "enabled": "Listener {id} is enabled again.",
    "disabled": "Listener {id} is disabled: nothing is delivered to it until it is enabled.",
    "removed": "Listener {id} and its delivery log are deleted.",
    "redelivered": "Delivery {id} is queued again, due now, with the same webhook-id.",
}


def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def parse_event_types(text: str) -> list[str]:
    """Comma- or space-separated event types; blank (every type) gives an empty list."""
    return [name for name in text.replace(",", " ").split() if name]


def _notice(request: web.Request) -> str:
    template = NOTICES.get(request.query.get("notice", ""))
    return "" if template is None else template.format(id=request.query.get("id", ""))


class WebhookPages:
    """GET /webhooks, /webhooks/{id}/deliveries, /deliveries, /events and the POST actions on them."""

    def __init__(self, console: AdminConsole, webhooks: WebhookConsole, renderer: PageRenderer) -> None:
        self._console = console
        self._webhooks = webhooks
        self._renderer = renderer

    async def _list_page(
        self,
        request: web.Request,
        *,
        status: int = 200,
        error: str = "",
        form: Mapping[str, str] | None = None,
    ) -> web.Response:
        users = await self._console.users.list_users()
        return self._renderer.render(
            request,
            "webhooks.html",
            status=status,
            section="webhooks",
            listeners=await self._webhooks.listeners.list_listeners(),
            owners=[ADMIN_OWNER, *(user.username for user in users)],
            notice="" if error else _notice(request),
            error=error,
            form=form or {"url": "", "events": "", "match": "", "owner": ADMIN_OWNER},
        )

    async def list_listeners(self, request: web.Request) -> web.Response:
        """Every listener, with the add form."""
        return await self._list_page(request)

    async def add_listener(self, request: web.Request) -> web.Response:
        """POST /webhooks: check and add a listener, and show its secret, once."""
        form = await request.post()
        entered = {name: _field(form, name).strip() for name in ("url", "events", "match", "owner")}
        owner = entered["owner"] or ADMIN_OWNER
        try:
            match: Any = json.loads(entered["match"]) if entered["match"] else {}
        except ValueError as exc:
            return await self._list_page(
                request, status=400, error=f"The filter is not JSON: {exc}", form=entered
            )
        if owner != ADMIN_OWNER and await self._console.users.get(owner) is None:
            return await self._list_page(
                request, status=400, error=f"There is no API user {owner}.", form=entered
            )
        try:
            listener = self._webhooks.check(
                entered["url"], parse_event_types(entered["events"]), match, owner
            )
        except ValueError as exc:
            return await self._list_page(request, status=400, error=f"Refused: {exc}.", form=entered)
        await self._webhooks.listeners.add(listener)
        return self._secret_page(request, listener.id, listener.secrets[0].secret, rotated=False)

    def _secret_page(
        self, request: web.Request, listener_id: str, secret: str, *, rotated: bool
    ) -> web.Response:
        return self._renderer.render(
            request,
            "webhook_secret.html",
            section="webhooks",
            listener_id=listener_id,
            secret=secret,
            rotated=rotated,
            overlap_hours=self._webhooks.secret_overlap / 3600,
        )

    async def _toggle(self, request: web.Request, enabled: bool) -> web.Response:
        listener_id = request.match_info["listener_id"]
        if not await self._webhooks.listeners.set_enabled(listener_id, enabled):
            return not_found(request, self._renderer, f"There is no listener {listener_id}.")
        notice = "enabled" if enabled else "disabled"
        return see_other(WEBHOOKS_PATH + "?" + urlencode({"notice": notice, "id": listener_id}))

    async def enable_listener(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/enable (clears its failure streak)."""
        return await self._toggle(request, True)

    async def disable_listener(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/disable."""
        return await self._toggle(request, False)

    async def rotate_secret(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/rotate-secret: a new secret, shown once; the old one signs for the overlap."""
        listener_id = request.match_info["listener_id"]
        secret = new_secret()
        if not await self._webhooks.listeners.rotate_secret(
            listener_id, secret, self._webhooks.secret_overlap
        ):
            return not_found(request, self._renderer, f"There is no listener {listener_id}.")
        return self._secret_page(request, listener_id, secret, rotated=True)

    async def remove_listener(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/delete: the listener and its delivery log."""
        listener_id = request.match_info["listener_id"]
        if not await self._webhooks.listeners.remove(listener_id):
            return not_found(request, self._renderer, f"There is no listener {listener_id}.")
        return see_other(WEBHOOKS_PATH + "?" + urlencode({"notice": "removed", "id": listener_id}))

    async def _deliveries_page(self, request: web.Request, listener_id: str | None) -> web.Response:
        failed_only = request.query.get("failed") == "1"
        store = self._webhooks.listeners
        deliveries: list[Delivery] = await store.deliveries(
            listener_id, failed_only=failed_only, limit=PAGE_SIZE
        )
        rows = [(delivery, await store.attempts(delivery.id)) for delivery in deliveries]
        return self._renderer.render(
            request,
            "deliveries.html",
            section="deliveries",
            listener=None if listener_id is None else await store.get(listener_id),
            rows=rows,
            failed_only=failed_only,
            page_size=PAGE_SIZE,
            here=request.path_qs,
            notice=_notice(request),
        )

    async def listener_deliveries(self, request: web.Request) -> web.Response:
        """GET /webhooks/{id}/deliveries: one listener's deliveries, newest first, with every attempt."""
        listener_id = request.match_info["listener_id"]
        if await self._webhooks.listeners.get(listener_id) is None:
            return not_found(request, self._renderer, f"There is no listener {listener_id}.")
        return await self._deliveries_page(request, listener_id)

    async def recent_deliveries(self, request: web.Request) -> web.Response:
        """GET /deliveries: the newest deliveries of every listener (`?failed=1`: failed ones only)."""
        return await self._deliveries_page(request, None)

    async def redeliver(self, request: web.Request) -> web.Response:
        """POST /deliveries/{id}/redeliver: queue it again, then back to the page the button was on."""
        delivery_id = request.match_info["delivery_id"]
        if not await self._webhooks.listeners.redeliver(delivery_id):
            return not_found(request, self._renderer, f"There is no delivery {delivery_id}.")
        back = safe_next(_field(await request.post(), "back")).split("?", 1)[0]
        return see_other(back + "?" + urlencode({"notice": "redelivered", "id": delivery_id}))

    async def recent_events(self, request: web.Request) -> web.Response:
        """GET /events: the newest events, newest first, with where they came from and their data."""
        events = await self._webhooks.events.list_recent(PAGE_SIZE)
        return self._renderer.render(
            request,
            "events.html",
            section="events",
            # Read back from the store, data is already its JSON form (docs/events.md, "Delivery body").
            events=[(event, json.dumps(event.data, indent=2, ensure_ascii=False)) for event in events],
            page_size=PAGE_SIZE,
        )
