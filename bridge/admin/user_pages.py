"""API users in the admin console: list, create, disable, enable, rotate a key, revoke older keys.

A new key is shown once, in the answer to the POST that made it, and never stored for display;
every other action redirects back to the list (post/redirect/get) with a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlencode

from aiohttp import web

from bridge.admin.access_guard import not_found, see_other
from bridge.admin.console import AdminConsole
from bridge.admin.rendering import PageRenderer
from bridge.store.interfaces import DuplicateUserError, InvalidUserError, UnknownUserError

USERS_PATH: Final = "/users"
NOTICES: Final = {
    "disabled": "User {user} is disabled: its keys no longer authenticate.",
    "enabled": "User {user} is enabled again.",
    "revoked": "Revoked {count} older key(s) of {user}; only the newest key stays active.",
}


def parse_scopes(text: str) -> list[str]:
    """Comma-separated procedure patterns; blanks dropped, empty meaning every procedure."""
    return [pattern.strip() for pattern in text.split(",") if pattern.strip()]


def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


class UserPages:
    """GET /users and the POST actions on users."""

    def __init__(self, console: AdminConsole, renderer: PageRenderer) -> None:
        self._console = console
        self._renderer = renderer

    async def _list_page(
        self,
        request: web.Request,
        *,
        status: int = 200,
        error: str = "",
        notice: str = "",
        name: str = "",
        scopes: str = "",
    ) -> web.Response:
        return self._renderer.render(
            request,
            "users.html",
            status=status,
            section="users",
            users=await self._console.users.list_users(),
            error=error,
            notice=notice,
            form={"name": name, "scopes": scopes},
        )

    async def list_users(self, request: web.Request) -> web.Response:
        """Every user, with the create form."""
        template = NOTICES.get(request.query.get("notice", ""))
        notice = ""
        if template is not None:
            notice = template.format(
                user=request.query.get("user", ""), count=request.query.get("count", "0")
            )
        return await self._list_page(request, notice=notice)

    async def create_user(self, request: web.Request) -> web.Response:
        """POST /users: add a user and show its key, once."""
        form = await request.post()
        name, scopes = _field(form, "name").strip(), _field(form, "scopes")
        try:
            key = await self._console.users.add_user(name, scopes=parse_scopes(scopes))
        except DuplicateUserError:
            error = f"A user named {name} already exists."
            return await self._list_page(request, status=409, error=error, name=name, scopes=scopes)
        except InvalidUserError as exc:
            return await self._list_page(request, status=400, error=str(exc), name=name, scopes=scopes)
        return self._renderer.render(
            request, "new_key.html", section="users", username=name, key=key, rotated=False
        )

    async def _toggle(self, request: web.Request, enabled: bool) -> web.Response:
        name = request.match_info["name"]
        try:
            await self._console.users.set_enabled(name, enabled)
        except UnknownUserError:
            return not_found(request, self._renderer, f"There is no user named {name}.")
        notice = "enabled" if enabled else "disabled"
        return see_other(USERS_PATH + "?" + urlencode({"notice": notice, "user": name}))

    async def disable_user(self, request: web.Request) -> web.Response:
        """POST /users/{name}/disable."""
        return await self._toggle(request, False)

    async def enable_user(self, request: web.Request) -> web.Response:
        """POST /users/{name}/enable."""
        return await self._toggle(request, True)

    async def rotate_key(self, request: web.Request) -> web.Response:
        """POST /users/{name}/rotate-key: add a new key and show it, once."""
        name = request.match_info["name"]
        try:
            key = await self._console.users.rotate_key(name)
        except UnknownUserError:
            return not_found(request, self._renderer, f"There is no user named {name}.")
        return self._renderer.render(
            request, "new_key.html", section="users", username=name, key=key, rotated=True
        )

    async def revoke_older_keys(self, request: web.Request) -> web.Response:
        """POST /users/{name}/revoke-old-keys: keep only the newest key."""
        name = request.match_info["name"]
        try:
            count = await self._console.users.revoke_keys(name, keep_newest=1)
        except UnknownUserError:
            return not_found(request, self._renderer, f"There is no user named {name}.")
        return see_other(
            USERS_PATH + "?" + urlencode({"notice": "revoked", "user": name, "count": str(count)})
        )
