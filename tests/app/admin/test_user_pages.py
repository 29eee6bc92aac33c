"""API users in the console: create (key shown once), disable, enable, rotate, revoke older keys."""

from __future__ import annotations

import pytest

from bridge.store.factory import Stores
from tests.app.admin.conftest import AdminClient, page_token


async def test_create_user_shows_the_key_once(admin: AdminClient, stores: Stores) -> None:
    """Creating a user answers with its key and a warning; the users page never shows the key."""
    token = await page_token(admin)
    response = await admin.post(
        "/users", data={"csrf_token": token, "name": "alice", "scopes": "math.*, echo"}
    )
    text = await response.text()
    [key] = await stores.users.active_keys("alice")
    assert response.status == 200
    assert key in text
    assert "shown only once" in text
    user = await stores.users.get("alice")
    assert user is not None and user.enabled and user.scopes == ("math.*", "echo")
    listing = await (await admin.get("/users")).text()
    assert "alice" in listing
    assert key not in listing


async def test_create_user_without_scopes_allows_everything(admin: AdminClient, stores: Stores) -> None:
    """An empty scopes field creates a user with no scopes, shown as "every procedure"."""
    token = await page_token(admin)
    await admin.post("/users", data={"csrf_token": token, "name": "bob", "scopes": " , "})
    user = await stores.users.get("bob")
    assert user is not None and user.scopes == ()
    assert "every procedure" in await (await admin.get("/users")).text()


async def test_duplicate_user_is_refused(admin: AdminClient, stores: Stores) -> None:
    """Creating a user whose name exists answers 409 and leaves the existing user's keys alone."""
    original = await stores.users.add_user("alice")
    token = await page_token(admin)
    response = await admin.post("/users", data={"csrf_token": token, "name": "alice", "scopes": ""})
    assert response.status == 409
    assert "already exists" in await response.text()
    assert await stores.users.active_keys("alice") == [original]


@pytest.mark.parametrize("name", ["", "has space", "-dash-first", "<script>"])
async def test_invalid_username_is_refused(admin: AdminClient, stores: Stores, name: str) -> None:
    """A username the store refuses answers 400 with the reason, and creates nobody."""
    token = await page_token(admin)
    response = await admin.post("/users", data={"csrf_token": token, "name": name, "scopes": ""})
    text = await response.text()
    assert response.status == 400
    assert "invalid username" in text
    assert "<script>" not in text
    assert await stores.users.list_users() == []


async def test_disable_and_enable(admin: AdminClient, stores: Stores) -> None:
    """Disable and enable buttons flip the stored flag and the page says so."""
    await stores.users.add_user("alice")
    token = await page_token(admin)
    response = await admin.post("/users/alice/disable", data={"csrf_token": token})
    user = await stores.users.get("alice")
    assert user is not None and not user.enabled
    text = await response.text()
    assert "User alice is disabled" in text
    assert "/users/alice/enable" in text
    await admin.post("/users/alice/enable", data={"csrf_token": token})
    user = await stores.users.get("alice")
    assert user is not None and user.enabled


async def test_rotate_key_shows_the_new_key_and_keeps_the_old(admin: AdminClient, stores: Stores) -> None:
    """Rotating adds a key, shows it once, and explains that the old one stays active until revoked."""
    old = await stores.users.add_user("alice")
    token = await page_token(admin)
    response = await admin.post("/users/alice/rotate-key", data={"csrf_token": token})
    text = await response.text()
    keys = await stores.users.active_keys("alice")
    assert keys[0] == old and len(keys) == 2
    assert keys[1] in text
    assert old not in text
    assert "stay active until you revoke them" in text
    assert keys[1] not in await (await admin.get("/users")).text()


async def test_revoke_older_keys(admin: AdminClient, stores: Stores) -> None:
    """Revoke older keys keeps only the newest key and reports how many went."""
    await stores.users.add_user("alice")
    await stores.users.rotate_key("alice")
    newest = await stores.users.rotate_key("alice")
    token = await page_token(admin)
    response = await admin.post("/users/alice/revoke-old-keys", data={"csrf_token": token})
    assert await stores.users.active_keys("alice") == [newest]
    assert "Revoked 2 older key(s) of alice" in await response.text()


@pytest.mark.parametrize("action", ["disable", "enable", "rotate-key", "revoke-old-keys"])
async def test_action_on_unknown_user_is_404(admin: AdminClient, action: str) -> None:
    """An action on a user that does not exist answers 404."""
    token = await page_token(admin)
    response = await admin.post(f"/users/nobody/{action}", data={"csrf_token": token})
    assert response.status == 404
    assert "no user named nobody" in await response.text()
