"""Logging in to and out of the admin console.

The password is checked with `bridge.auth.passwords.verify_password` (scrypt, constant-time
comparison) in a worker thread, so a login does not stall the sidecar's event loop. The login
form is protected from CSRF like every other form, through a visitor session.
"""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web

from bridge.admin.access_guard import forbidden, read_session, revoke_session, safe_next, see_other
from bridge.admin.login_throttle import AttemptCheck
from bridge.admin.rendering import SESSION, PageRenderer
from bridge.admin.sessions import COOKIE_NAME, CSRF_FIELD, SessionSigner
from bridge.auth.passwords import verify_password
from bridge.forwarded import client_address
from bridge.store.interfaces import AdminStore


class LoginPages:
    """GET and POST /login, POST /logout."""

    def __init__(
        self,
        signer: SessionSigner,
        admin: AdminStore,
        renderer: PageRenderer,
        throttle: AttemptCheck,
        trusted_proxies: tuple[str, ...] = (),
    ) -> None:
        self._signer = signer
        self._admin = admin
        self._renderer = renderer
        self._throttle = throttle
        self._trusted_proxies = trusted_proxies

    def _set_cookie(self, response: web.StreamResponse, value: str) -> None:
        # SameSite=Strict keeps the cookie off every cross-site request; no Secure flag because
        # the admin site speaks plain HTTP on loopback.
        response.set_cookie(
            COOKIE_NAME, value, max_age=self._signer.lifetime, path="/", httponly=True, samesite="Strict"
        )

    def _page(
        self, request: web.Request, password_set: bool, next_path: str, *, status: int = 200, error: str = ""
    ) -> web.Response:
        return self._renderer.render(
            request, "login.html", status=status, password_set=password_set, next_path=next_path, error=error
        )

    async def show(self, request: web.Request) -> web.Response:
        """GET /login: the form, or straight on when already logged in."""
        password_hash = await self._admin.get_password_hash()
        next_path = safe_next(request.query.get("next"))
        session = await read_session(self._signer, self._admin, request, password_hash or "")
        if session is not None and session.logged_in and password_hash is not None:
            return see_other(next_path)
        fresh = None
        if session is None:
            session, fresh = self._signer.issue(logged_in=False)
        request[SESSION] = session
        response = self._page(request, password_hash is not None, next_path)
        if fresh is not None:
            self._set_cookie(response, fresh)
        return response

    async def submit(self, request: web.Request) -> web.Response:
        """POST /login: check the CSRF token, the attempt budget and the password."""
        password_hash = await self._admin.get_password_hash()
        session = await read_session(self._signer, self._admin, request, password_hash or "")
        form = await request.post()
        token, password, next_field = form.get(CSRF_FIELD), form.get("password"), form.get("next")
        if session is None or not isinstance(token, str) or not self._signer.check_csrf(session, token):
            return forbidden(request, self._renderer)
        request[SESSION] = session
        next_path = safe_next(next_field if isinstance(next_field, str) else None)
        forwarded = request.headers.getall(hdrs.X_FORWARDED_FOR, ())
        if not await self._throttle(client_address(request.remote or "", forwarded, self._trusted_proxies)):
            error = "Too many login attempts from your address. Wait a minute and try again."
            return self._page(request, password_hash is not None, next_path, status=429, error=error)
        if password_hash is None:
            return self._page(request, False, next_path, status=401)
        if not isinstance(password, str) or not await asyncio.to_thread(
            verify_password, password, password_hash
        ):
            return self._page(request, True, next_path, status=401, error="Wrong password.")
        await revoke_session(self._signer, self._admin, session)
        _, cookie = self._signer.issue(logged_in=True, binding=password_hash)
        response = see_other(next_path)
        self._set_cookie(response, cookie)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        """POST /logout (behind the access guard): forget the session."""
        await revoke_session(self._signer, self._admin, request[SESSION])
        response = see_other("/login")
        response.del_cookie(COOKIE_NAME, path="/", samesite="Strict")
        return response
