"""The admin password store, and the factory that picks stores by URL."""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path

import pytest

from bridge.auth.passwords import hash_password, verify_password
from bridge.errors import ConfigError
from bridge.settings import Settings
from bridge.store.database import Database
from bridge.store.factory import open_stores
from bridge.store.interfaces import StoreUnavailable
from bridge.store.login_attempts import RedisLoginThrottle
from bridge.store.nonce_stores import MemoryNonceStore, RedisNonceStore
from bridge.store.sql_stores import SqlAdminStore
from tests.integration.stores.conftest import REDIS_URL


async def test_admin_password_hash_is_stored_and_replaced(admin: SqlAdminStore) -> None:
    """No hash at first; a set hash reads back and verifies; setting again replaces it."""
    assert await admin.get_password_hash() is None
    await admin.set_password_hash(hash_password("first", n=16, r=1, p=1))
    await admin.set_password_hash(hash_password("second", n=16, r=1, p=1))
    stored = await admin.get_password_hash()
    assert stored is not None
    assert verify_password("second", stored)
    assert not verify_password("first", stored)


async def test_default_settings_open_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    """With no URLs set, stores are SQLite in the data directory and an in-memory nonce cache."""
    stores = await open_stores(Settings(data_dir=tmp_path / "data"))
    try:
        key = await stores.users.add_user("alice")
        assert await stores.users.active_keys("alice") == [key]
        assert isinstance(stores.nonces, MemoryNonceStore)
        assert (tmp_path / "data" / "rpcbridge.sqlite3").exists()
    finally:
        await stores.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_urls_select_postgres_and_redis(postgres_url: str, redis_prefix: str) -> None:
    """A postgresql:// database_url and a redis:// redis_url select those backends."""
    stores = await open_stores(Settings(database_url=postgres_url, redis_url=REDIS_URL))
    try:
        assert stores.database.dialect == "postgresql"
        assert isinstance(stores.nonces, RedisNonceStore)
        await stores.users.add_user("alice")
        assert [user.username for user in await stores.users.list_users()] == ["alice"]
    finally:
        await stores.close()


@pytest.mark.parametrize(
    "settings",
    [
        Settings(database_url="mysql://db/rpcbridge"),
        Settings(database_url="sqlite:///"),
        Settings(redis_url="memcached://127.0.0.1"),
        Settings(key_encryption_key="not-a-fernet-key"),
    ],
    ids=["database-scheme", "sqlite-without-path", "redis-scheme", "bad-encryption-key"],
)
async def test_bad_settings_fail_at_start_up(settings: Settings) -> None:
    """An unsupported URL or an unusable encryption key is a ConfigError when stores are opened."""
    with pytest.raises(ConfigError):
        await open_stores(settings)


async def test_unreachable_postgres_fails_clearly_without_the_password() -> None:
    """A database that cannot be reached raises StoreUnavailable naming the host, not the password."""
    settings = Settings(database_url="postgresql://postgres:hunter2@127.0.0.1:1/test")
    with pytest.raises(StoreUnavailable) as caught:
        await open_stores(settings)
    assert "127.0.0.1:1" in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_revoked_admin_sessions_are_seen_and_expired_ones_forgotten(
    admin: SqlAdminStore, db: Database
) -> None:
    """A logout is stored for every sidecar; revocations past their cookie's expiry are purged."""
    now = datetime.datetime.now(datetime.UTC)
    assert not await admin.session_revoked("s1")
    await admin.revoke_session("old", now - datetime.timedelta(seconds=1))
    await admin.revoke_session("s1", now + datetime.timedelta(hours=8))
    await admin.revoke_session("s1", now + datetime.timedelta(hours=8))  # a second logout is harmless
    assert await admin.session_revoked("s1")
    async with db.session() as session:
        rows = await session.fetch("SELECT session_id FROM admin_session_revocations")
    assert [row["session_id"] for row in rows] == ["s1"]


@pytest.mark.redis
async def test_login_throttle_in_redis_is_shared_and_falls_back_when_unreachable() -> None:
    """Two throttles on one Redis count together; with Redis down the process's own count decides."""
    prefix = f"rpcbridge-test:login:{secrets.token_hex(8)}:"
    local: list[str] = []

    def fallback(address: str) -> bool:
        local.append(address)
        return True

    first = RedisLoginThrottle(REDIS_URL, 3, 60, fallback, prefix=prefix)
    second = RedisLoginThrottle(REDIS_URL, 3, 60, fallback, prefix=prefix)
    down = RedisLoginThrottle("redis://127.0.0.1:1/0", 3, 60, fallback, prefix=prefix)
    try:
        assert [await first.attempt("a"), await second.attempt("a"), await first.attempt("a")] == [True] * 3
        assert not await second.attempt("a")
        assert await second.attempt("b")
        assert await down.attempt("c") and local == ["c"]
    finally:
        for throttle in (first, second, down):
            await throttle.aclose()
