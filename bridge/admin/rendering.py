"""Turns the admin console's Jinja2 templates into HTML responses with safe headers.

Templates live in `templates/` next to this module and are autoescaped; the stylesheet in
`static/admin.css` is served by the console itself, so the Content-Security-Policy can forbid
inline scripts and styles altogether. The one script, `static/events.js` (the live events page),
is served the same way and allowed only on that page, with only the frontend's /ws to connect to.
"""

from __future__ import annotations

import datetime
from importlib import resources
from typing import Any, Final

import jinja2
from aiohttp import web

from bridge.admin.sessions import CSRF_FIELD, Session, SessionSigner

STYLESHEET_PATH: Final = "/static/admin.css"
EVENTS_SCRIPT_PATH: Final = "/static/events.js"
# The session the access guard (or the login page) found for this request.
SESSION: Final = web.RequestKey("admin_session", Session)
# No scripts at all; styles only from our own stylesheet; forms post only to ourselves.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Pages hold API keys (once) and call arguments: keep them out of every cache.
    "Cache-Control": "no-store",
}


def format_time(moment: datetime.datetime | None) -> str:
    """A timestamp as UTC with milliseconds, e.g. `2025-01-02 03:04:05.678 UTC`."""
    if moment is None:
        return ""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d} UTC"


class PageRenderer:
    """Renders a named template with the context every page shares (nav, CSRF token)."""

    def __init__(self, signer: SessionSigner, *, webhooks: bool = False) -> None:
        """`webhooks`: whether the navigation links the webhook, delivery and event pages."""
        self._signer = signer
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("bridge.admin", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["time"] = format_time
        self._env.globals["csrf_field"] = CSRF_FIELD
        self._env.globals["stylesheet"] = STYLESHEET_PATH
        self._env.globals["webhooks_enabled"] = webhooks
        self._env.globals["events_script"] = EVENTS_SCRIPT_PATH
        self.stylesheet = resources.files("bridge.admin").joinpath("static/admin.css").read_bytes()
        self.events_script = resources.files("bridge.admin").joinpath("static/events.js").read_bytes()

    def render(
        self,
        request: web.Request,
        template: str,
        *,
        status: int = 200,
        policy: str = SECURITY_HEADERS["Content-Security-Policy"],
        **context: Any,
    ) -> web.Response:
        """An HTML response from `templates/<template>`, with the request's session CSRF token.

        Args:
            policy: the page's Content-Security-Policy; only the events page widens the default.
        """
        session = request.get(SESSION)
        csrf_token = self._signer.csrf_token(session) if session is not None else ""
        logged_in = session is not None and session.logged_in
        context.setdefault("section", "")
        html = self._env.get_template(template).render(csrf_token=csrf_token, logged_in=logged_in, **context)
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": policy}
        return web.Response(
            text=html, status=status, content_type="text/html", charset="utf-8", headers=headers
        )

    async def serve_events_script(self, request: web.Request) -> web.Response:
        """GET /static/events.js."""
        return _static(self.events_script, "text/javascript")

    async def serve_stylesheet(self, request: web.Request) -> web.Response:
        """GET /static/admin.css."""
        return _static(self.stylesheet, "text/css")


def _static(body: bytes, content_type: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
