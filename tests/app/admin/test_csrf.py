"""CSRF: every form carries the session's token, and every POST without it is refused with 403."""

from __future__ import annotations

import pytest

from bridge.store.factory import Stores
from tests.app.admin.conftest import AdminClient, call_record, log_in, page_token
from tests.app.admin.html_forms import forms_of

# (form action, fields besides the token); the user "bob" exists, enabled, with one key.
FORM_KINDS = [
    ("/users", {"name": "mallory", "scopes": ""}),
    ("/users/bob/disable", {}),
    ("/users/bob/enable", {}),
    ("/users/bob/rotate-key", {}),
    ("/users/bob/revoke-old-keys", {}),
    ("/logout", {}),
]


async def _store_state(stores: Stores) -> tuple[object, ...]:
    return (await stores.users.list_users(), await stores.users.active_keys("bob"))


@pytest.mark.parametrize("token", [None, "", "0" * 64], ids=["missing", "empty", "wrong"])
@pytest.mark.parametrize(("action", "fields"), FORM_KINDS, ids=[action for action, _ in FORM_KINDS])
async def test_post_without_the_token_is_forbidden(
    admin: AdminClient, stores: Stores, action: str, fields: dict[str, str], token: str | None
) -> None:
    """A POST to any console form without this session's token gets 403 and changes nothing."""
    await stores.users.add_user("bob")
    await stores.users.rotate_key("bob")
    before = await _store_state(stores)
    data = dict(fields) if token is None else {**fields, "csrf_token": token}
    response = await admin.post(action, data=data, allow_redirects=False)
    assert response.status == 403
    assert await _store_state(stores) == before
    assert (await admin.get("/calls", allow_redirects=False)).status == 200


@pytest.mark.parametrize("token", [None, "0" * 64], ids=["missing", "wrong"])
async def test_login_without_the_token_is_forbidden(with_password: AdminClient, token: str | None) -> None:
    """The login form is protected too: a POST without its token is 403 and logs nobody in."""
    await with_password.get("/login")
    data = {"password": "correct horse battery staple"}
    if token is not None:
        data["csrf_token"] = token
    response = await with_password.post("/login", data=data, allow_redirects=False)
    assert response.status == 403
    assert (await with_password.get("/calls", allow_redirects=False)).status == 303


async def test_token_of_another_session_is_forbidden(admin: AdminClient, stores: Stores) -> None:
    """A token from one session does not work in another (tokens are bound to the session)."""
    await stores.users.add_user("bob")
    stolen = await page_token(admin)
    page = await (await admin.get("/calls")).text()
    logout = next(form for form in forms_of(page) if form.action == "/logout")
    await admin.post("/logout", data=logout.fields)
    await log_in(admin)
    response = await admin.post("/users/bob/disable", data={"csrf_token": stolen}, allow_redirects=False)
    assert response.status == 403
    user = await stores.users.get("bob")
    assert user is not None and user.enabled


@pytest.mark.parametrize("path", ["/calls", "/calls/1", "/users", "/procedures"])
async def test_every_post_form_carries_the_token(admin: AdminClient, stores: Stores, path: str) -> None:
    """Each POST form of each page holds the session's CSRF token; GET forms are read-only filters."""
    await stores.users.add_user("bob")
    await stores.users.add_user("carol")
    await stores.users.set_enabled("carol", False)
    await stores.call_log.write_many([call_record()])
    token = await page_token(admin)
    forms = forms_of(await (await admin.get(path)).text())
    assert forms
    for form in forms:
        if form.method == "post":
            assert form.fields.get("csrf_token") == token, form.action
        else:
            assert form.action == "/calls", form.action
