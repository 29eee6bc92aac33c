"""Fixtures running the same store tests on SQLite and PostgreSQL, and on memory and Redis nonces.

PostgreSQL tests get a fresh schema per test (chosen through `?search_path=` in the URL, which
asyncpg passes as a server setting) and drop it afterwards; Redis tests use a unique key prefix
and delete their keys afterwards. Servers default to 127.0.0.1 and can be moved with
RPCBRIDGE_TEST_POSTGRES_URL / RPCBRIDGE_TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet

from bridge.store.database import Database
from bridge.store.factory import open_database
from bridge.store.key_cipher import KeyCipher
from bridge.store.nonce_stores import MemoryNonceStore, RedisNonceStore
from bridge.store.sql_stores import SqlAdminStore, SqlCallLogStore, SqlUserStore
from tests.integration.conftest import REDIS_URL


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    """A SQLite URL for a file in the test's temporary directory."""
    return f"sqlite:///{os.path.join(tmp_path, 'data', 'rpcbridge.sqlite3')}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each store test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """An open, migrated database."""
    database = await open_database(database_url)
    yield database
    await database.close()


@pytest.fixture
def cipher() -> KeyCipher:
    """Encryption of API keys under a fresh Fernet key."""
    return KeyCipher(Fernet.generate_key().decode("ascii"))


@pytest.fixture
def users(db: Database, cipher: KeyCipher) -> SqlUserStore:
    return SqlUserStore(db, cipher)


@pytest.fixture
def call_log(db: Database) -> SqlCallLogStore:
    return SqlCallLogStore(db)


@pytest.fixture
def admin(db: Database) -> SqlAdminStore:
    return SqlAdminStore(db)


async def delete_keys(prefix: str) -> None:
    """Delete every Redis key under `prefix`."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix no other run uses; its keys are deleted after the test."""
    prefix = f"rpcbridge-test:{uuid.uuid4().hex}:"
    yield prefix
    await delete_keys(prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def nonce_store(request: pytest.FixtureRequest) -> AsyncIterator[MemoryNonceStore | RedisNonceStore]:
    """Each nonce test runs once on the memory store and once on Redis (under a fresh prefix)."""
    if request.param == "memory":
        memory = MemoryNonceStore()
        yield memory
        await memory.aclose()
        return
    prefix = f"rpcbridge-test:{uuid.uuid4().hex}:"
    shared = RedisNonceStore(REDIS_URL, prefix=prefix)
    yield shared
    await shared.aclose()
    await delete_keys(prefix)
