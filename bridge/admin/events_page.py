"""The live events page of the admin console: a table that `static/events.js` fills from the
frontend's `/ws` (docs/realtime.md). The page's Content-Security-Policy allows that one script
and a connection to that one WebSocket URL, nothing else.
"""

from __future__ import annotations

from aiohttp import web

from bridge.admin.rendering import SECURITY_HEADERS, PageRenderer


def websocket_url(frontend_url: str) -> str:
    """The `/ws` URL of a frontend's public http(s) URL (empty stays empty)."""
    if not frontend_url:
        return ""
    scheme, _, rest = frontend_url.partition("://")
    return ("wss" if scheme == "https" else "ws") + "://" + rest.rstrip("/") + "/ws"


class EventsPage:
    """GET /events/live: events as a frontend delivers them, over its /ws."""

    def __init__(self, frontend_url: str, renderer: PageRenderer) -> None:
        self._ws_url = websocket_url(frontend_url)
        self._renderer = renderer
        self._policy = SECURITY_HEADERS["Content-Security-Policy"]
        if self._ws_url:
            self._policy += f"; script-src 'self'; connect-src {self._ws_url}"

    async def show(self, request: web.Request) -> web.Response:
        """The table the script fills, or how to turn the page on."""
        return self._renderer.render(
            request, "live_events.html", section="live", policy=self._policy, ws_url=self._ws_url
        )
