"""The admin console's gate: every page needs a logged-in session, and every POST its CSRF token.

Runs as an aiohttp middleware in front of every admin route. `/healthz`, `/readyz`, `/metrics`, the
stylesheet and `/login` pass through (the login page checks its own visitor session).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bridge.admin.rendering import EVENTS_SCRIPT_PATH, SESSION, STYLESHEET_PATH, PageRenderer
from bridge.admin.sessions import COOKIE_NAME, CSRF_FIELD, Session, SessionSigner
from bridge.store.interfaces import AdminStore

LOGIN_PATH: Final = "/login"
HOME_PATH: Final = "/overview"
OPEN_PATHS: Final = frozenset(
    {LOGIN_PATH, "/healthz", "/readyz", "/metrics", STYLESHEET_PATH, EVENTS_SCRIPT_PATH}
)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site (open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target)
        or target.split("?", 1)[0] in (LOGIN_PATH, "/logout")
    ):
        return HOME_PATH
    return target


async def read_session(
    signer: SessionSigner, admin: AdminStore, request: web.Request, binding: str
) -> Session | None:
    """The request's session: signed by our key and not logged out on any sidecar."""
    session = signer.read(request.cookies.get(COOKIE_NAME), binding)
    if session is None or await admin.session_revoked(session.session_id):
        return None
    return session


async def revoke_session(signer: SessionSigner, admin: AdminStore, session: Session) -> None:
    """Log a session out on every sidecar that shares the store."""
    await admin.revoke_session(session.session_id, signer.expires_at(session))


def see_other(location: str) -> web.Response:
    """A 303 redirect, so that a POST is followed by a GET (post/redirect/get)."""
    return web.Response(status=303, headers={"Location": location})


def access_guard(signer: SessionSigner, admin: AdminStore, renderer: PageRenderer) -> Middleware:
    """The middleware that sends visitors without a session to /login and refuses forged POSTs."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        password_hash = await admin.get_password_hash()
        session = None
        if password_hash is not None:
            session = await read_session(signer, admin, request, password_hash)
        if session is None or not session.logged_in:
            target = request.path_qs if request.method == "GET" else HOME_PATH
            query = "" if target == HOME_PATH else "?" + urlencode({"next": target})
            return see_other(LOGIN_PATH + query)
        request[SESSION] = session
        if request.method == "POST":
            form = await request.post()
            token = form.get(CSRF_FIELD)
            if not isinstance(token, str) or not signer.check_csrf(session, token):
                return forbidden(request, renderer)
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return not_found(request, renderer)

    return guard


def forbidden(request: web.Request, renderer: PageRenderer) -> web.Response:
    """403: a form arrived without this session's CSRF token."""
    return renderer.render(
        request,
        "error.html",
        status=403,
        title="Form expired or forged",
        message="This form did not carry a valid security token. Reload the page and try again.",
    )


def not_found(
    request: web.Request, renderer: PageRenderer, message: str = "There is no such page."
) -> web.Response:
    """404 as an admin page."""
    return renderer.render(request, "error.html", status=404, title="Not found", message=message)
