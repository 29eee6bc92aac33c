"""The user store on SQLite and PostgreSQL: users, keys, rotation, scopes, encryption at rest."""

from __future__ import annotations

import datetime

import pytest
from cryptography.fernet import Fernet

from bridge.store.database import Database
from bridge.store.factory import open_database
from bridge.store.interfaces import DuplicateUserError, InvalidUserError, SchemaError, UnknownUserError
from bridge.store.key_cipher import KeyCipher
from bridge.store.sql_stores import SqlUserStore


async def test_add_user_generates_a_key(users: SqlUserStore) -> None:
    """A new user without a given key gets a random key of at least 32 characters, active at once."""
    key = await users.add_user("alice")
    assert len(key) >= 32
    assert await users.active_keys("alice") == [key]
    assert key != await users.add_user("bob")


async def test_add_user_keeps_a_given_key_and_scopes(users: SqlUserStore) -> None:
    """A given key is stored as is; the user starts enabled with the given scopes and a creation time."""
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    assert (
        await users.add_user("alice", key="legacy-key-1234", scopes=["math.*", "echo"]) == "legacy-key-1234"
    )
    user = await users.get("alice")
    assert user is not None
    assert (str(user), user.enabled, user.scopes) == ("alice", True, ("math.*", "echo"))
    assert user.created_at.tzinfo is not None
    assert user.created_at >= before


async def test_duplicate_user_is_refused_and_keeps_its_key(users: SqlUserStore) -> None:
    """Adding an existing name fails clearly and leaves the existing user's keys alone."""
    key = await users.add_user("alice")
    with pytest.raises(DuplicateUserError, match="already exists"):
        await users.add_user("alice", key="another-key-9999")
    assert await users.active_keys("alice") == [key]


@pytest.mark.parametrize("name", ["", "a b", "a;b", "a,b", "-alice", "x" * 129, "ålice"])
async def test_invalid_username_is_refused(users: SqlUserStore, name: str) -> None:
    """Names that could not travel in credentials are refused before anything is stored."""
    with pytest.raises(InvalidUserError):
        await users.add_user(name)
    assert await users.list_users() == []


@pytest.mark.parametrize("key", ["", " padded ", "line\nbreak"])
async def test_invalid_key_is_refused_without_echoing_it(users: SqlUserStore, key: str) -> None:
    """An unusable key is refused, and the message does not repeat it."""
    with pytest.raises(InvalidUserError) as caught:
        await users.add_user("alice", key=key)
    assert not key.strip() or key.strip() not in str(caught.value)


async def test_unknown_user_reads_as_absent(users: SqlUserStore) -> None:
    """Looking up an unknown user gives None and no keys."""
    assert await users.get("nobody") is None
    assert await users.active_keys("nobody") == []


async def test_list_users_is_ordered_by_name(users: SqlUserStore) -> None:
    """list_users returns every user, sorted by name."""
    for name in ("carol", "alice", "bob"):
        await users.add_user(name)
    assert [user.username for user in await users.list_users()] == ["alice", "bob", "carol"]


async def test_enable_and_disable(users: SqlUserStore) -> None:
    """set_enabled flips the flag; an unknown name is an error."""
    await users.add_user("alice")
    await users.set_enabled("alice", False)
    assert (await users.get("alice")).enabled is False  # type: ignore[union-attr]
    await users.set_enabled("alice", True)
    assert (await users.get("alice")).enabled is True  # type: ignore[union-attr]
    with pytest.raises(UnknownUserError):
        await users.set_enabled("nobody", False)


async def test_set_scopes_replaces_them(users: SqlUserStore) -> None:
    """set_scopes replaces the patterns, empty meaning all; bad patterns and unknown users fail."""
    await users.add_user("alice", scopes=["a.*"])
    await users.set_scopes("alice", ["b.*", "c"])
    assert (await users.get("alice")).scopes == ("b.*", "c")  # type: ignore[union-attr]
    await users.set_scopes("alice", [])
    assert (await users.get("alice")).scopes == ()  # type: ignore[union-attr]
    with pytest.raises(InvalidUserError):
        await users.set_scopes("alice", [""])
    with pytest.raises(UnknownUserError):
        await users.set_scopes("nobody", ["x"])


async def test_rotation_keeps_old_key_until_revoked(users: SqlUserStore) -> None:
    """After rotate_key both keys are active (oldest first); revoke_keys leaves only the newest."""
    old = await users.add_user("alice")
    new = await users.rotate_key("alice")
    assert await users.active_keys("alice") == [old, new]
    assert await users.revoke_keys("alice", keep_newest=1) == 1
    assert await users.active_keys("alice") == [new]
    assert await users.revoke_keys("alice", keep_newest=1) == 0


async def test_revoke_keeping_none_and_unknown_users(users: SqlUserStore) -> None:
    """keep_newest=0 revokes every key; rotating or revoking for an unknown user fails clearly."""
    await users.add_user("alice")
    await users.rotate_key("alice", key="second-key-1234")
    assert await users.revoke_keys("alice", keep_newest=0) == 2
    assert await users.active_keys("alice") == []
    with pytest.raises(UnknownUserError):
        await users.rotate_key("nobody")
    with pytest.raises(UnknownUserError):
        await users.revoke_keys("nobody")


async def test_keys_are_encrypted_at_rest(users: SqlUserStore, db: Database) -> None:
    """The raw stored key is Fernet ciphertext, not the key, yet reads back as the key."""
    key = await users.add_user("alice", key="plain-text-api-key-0001")
    async with db.session() as session:
        [row] = await session.fetch("SELECT sealed_key FROM api_keys WHERE username = $1", "alice")
    assert row["sealed_key"].startswith("fernet:")
    assert key not in row["sealed_key"]
    assert await users.active_keys("alice") == [key]


async def test_keys_are_plain_without_an_encryption_key(db: Database) -> None:
    """Without key_encryption_key, keys are stored recoverably in plain form, marked as such."""
    users = SqlUserStore(db, KeyCipher(""))
    key = await users.add_user("alice")
    async with db.session() as session:
        [row] = await session.fetch("SELECT sealed_key FROM api_keys")
    assert row["sealed_key"] == f"plain:{key}"
    assert await users.active_keys("alice") == [key]


async def test_encrypted_keys_need_the_right_encryption_key(users: SqlUserStore, db: Database) -> None:
    """Encrypted keys read without, or with a wrong, encryption key fail clearly instead of silently."""
    await users.add_user("alice")
    with pytest.raises(SchemaError, match="not set"):
        await SqlUserStore(db, KeyCipher("")).active_keys("alice")
    with pytest.raises(SchemaError, match="cannot decrypt"):
        await SqlUserStore(db, KeyCipher(Fernet.generate_key().decode())).active_keys("alice")


async def test_encryption_key_can_be_rotated(db: Database) -> None:
    """With "new,old" as key_encryption_key, keys sealed under the old key still decrypt."""
    old_kek, new_kek = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    key = await SqlUserStore(db, KeyCipher(old_kek)).add_user("alice")
    assert await SqlUserStore(db, KeyCipher(f"{new_kek},{old_kek}")).active_keys("alice") == [key]


async def test_changes_show_in_another_process_without_restart(
    users: SqlUserStore, database_url: str, cipher: KeyCipher
) -> None:
    """A second connection (as the `rpcbridge users` CLI) changes users; the first sees it at once."""
    await users.add_user("alice")
    other_db = await open_database(database_url)
    try:
        other = SqlUserStore(other_db, cipher)
        await other.set_enabled("alice", False)
        new_key = await other.rotate_key("alice")
        await other.add_user("bob")
    finally:
        await other_db.close()
    assert (await users.get("alice")).enabled is False  # type: ignore[union-attr]
    assert new_key in await users.active_keys("alice")
    assert await users.get("bob") is not None


async def test_delete_user_removes_it_and_its_keys(users: SqlUserStore) -> None:
    """A deleted user is gone with its keys; its name can be added afresh; deleting twice is an error."""
    await users.add_user("alice", "a" * 32)
    await users.add_user("bob")
    await users.delete_user("alice")
    assert await users.get("alice") is None
    assert await users.active_keys("alice") == []
    assert [user.username for user in await users.list_users()] == ["bob"]
    with pytest.raises(UnknownUserError):
        await users.delete_user("alice")
    assert await users.add_user("alice") != "a" * 32
