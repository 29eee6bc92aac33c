"""Nonce stores on memory and Redis: claims, replays, per-user scope, expiry, and Redis down."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.signing import auth_params, credentials_from_params
from bridge.auth.verifier import Verifier
from bridge.store.interfaces import NonceStoreUnavailable
from bridge.store.nonce_stores import MemoryNonceStore, RedisNonceStore, nonce_key
from bridge.store.sql_stores import SqlUserStore
from tests.integration.stores.conftest import REDIS_URL

NONCE = "nonce-0123456789abcdef"
CLOSED_PORT_URL = "redis://:hunter2@127.0.0.1:1/0"


async def test_first_claim_wins_and_repeats_are_replays(
    nonce_store: MemoryNonceStore | RedisNonceStore,
) -> None:
    """Claiming a nonce succeeds once; claiming it again reports a replay."""
    assert await nonce_store.claim("alice", NONCE, 60) is True
    assert await nonce_store.claim("alice", NONCE, 60) is False


async def test_same_scope_may_claim_again_other_scopes_may_not(
    nonce_store: MemoryNonceStore | RedisNonceStore,
) -> None:
    """Within one HTTP request (one scope) a nonce is accepted again; any other reuse is a replay."""
    assert await nonce_store.claim("alice", NONCE, 60, scope="a1b2") is True
    assert await nonce_store.claim("alice", NONCE, 60, scope="a1b2") is True
    assert await nonce_store.claim("alice", NONCE, 60, scope="ffff") is False
    assert await nonce_store.claim("alice", NONCE, 60) is False


async def test_unscoped_claim_cannot_be_reused_with_a_scope(
    nonce_store: MemoryNonceStore | RedisNonceStore,
) -> None:
    """A nonce first claimed without a scope stays a replay under every scope."""
    assert await nonce_store.claim("alice", NONCE, 60) is True
    assert await nonce_store.claim("alice", NONCE, 60, scope="-") is False
    assert await nonce_store.claim("alice", NONCE, 60, scope="a1b2") is False


async def test_nonces_are_per_user(nonce_store: MemoryNonceStore | RedisNonceStore) -> None:
    """The same nonce can be claimed once by each user."""
    assert await nonce_store.claim("alice", NONCE, 60) is True
    assert await nonce_store.claim("bob", NONCE, 60) is True


async def test_keys_cannot_collide_across_separators(nonce_store: MemoryNonceStore | RedisNonceStore) -> None:
    """("a:b", "c...") and ("a", "b:c...") are different claims although their text joins alike."""
    assert nonce_key("a:b", "c0123456789abcdef") != nonce_key("a", "b:c0123456789abcdef")
    assert await nonce_store.claim("a:b", "c0123456789abcdef", 60) is True
    assert await nonce_store.claim("a", "b:c0123456789abcdef", 60) is True


async def test_memory_claims_expire_after_their_ttl() -> None:
    """In memory, a nonce can be claimed again once its TTL has passed, and expired ones are pruned."""
    now = [1000.0]
    store = MemoryNonceStore(clock=lambda: now[0])
    assert await store.claim("alice", NONCE, 30) is True
    now[0] += 29
    assert await store.claim("alice", NONCE, 30) is False
    now[0] += 2
    assert await store.claim("alice", "another-nonce-0123456", 30) is True
    assert len(store) == 1
    assert await store.claim("alice", NONCE, 30) is True


@pytest.mark.redis
async def test_redis_claim_sets_the_ttl(redis_prefix: str) -> None:
    """In Redis, a claimed nonce's key carries the requested expiry, under the configured prefix."""
    store = RedisNonceStore(REDIS_URL, prefix=redis_prefix)
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await store.claim("alice", NONCE, 120) is True
        ttl = await client.ttl(redis_prefix + nonce_key("alice", NONCE))
        assert 0 < ttl <= 120
    finally:
        await client.aclose()
        await store.aclose()


async def test_redis_down_raises_a_clear_error() -> None:
    """With Redis unreachable, a claim raises NonceStoreUnavailable naming the server but not its password."""
    store = RedisNonceStore(CLOSED_PORT_URL, timeout=1.0)
    try:
        with pytest.raises(NonceStoreUnavailable) as caught:
            await store.claim("alice", NONCE, 60)
    finally:
        await store.aclose()
    message = str(caught.value)
    assert "nonce store unavailable" in message
    assert "127.0.0.1:1" in message
    assert "hunter2" not in message


async def test_redis_down_makes_authentication_fail_closed(users: SqlUserStore) -> None:
    """A correctly signed call is refused (reason nonce_store_unavailable) when Redis is unreachable."""
    key = await users.add_user("alice")
    store = RedisNonceStore(CLOSED_PORT_URL, timeout=1.0)
    try:
        creds, _ = credentials_from_params(auth_params("alice", key))
        with pytest.raises(AuthFailure) as caught:
            await Verifier(users, store).verify(creds, "echo")
    finally:
        await store.aclose()
    assert caught.value.reason is Reason.NONCE_STORE_UNAVAILABLE


async def kill_connections_named(name: str) -> int:
    """Close, from Redis's side, every connection whose CLIENT SETNAME is `name`; how many."""
    admin = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        clients = await admin.client_list()
        ids = [client["id"] for client in clients if client.get("name") == name]
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
        return len(ids)
    finally:
        await admin.aclose()


@pytest.mark.redis
async def test_redis_dropping_the_connections_costs_no_call(redis_prefix: str) -> None:
    """After Redis closes the pooled connections (restart, failover, idle timeout), claims still work."""
    name = f"rpcbridge-test-{uuid.uuid4().hex[:12]}"
    store = RedisNonceStore(REDIS_URL, prefix=redis_prefix, client_name=name)
    try:
        assert await store.claim("alice", "before-the-drop-0001", 60) is True
        assert await kill_connections_named(name) >= 1
        assert await store.claim("alice", "after-the-drop-00001", 60) is True
        assert await store.claim("alice", "after-the-drop-00001", 60) is False
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_retried_claim_whose_first_set_landed_is_not_a_replay(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops after Redis ran the SET but before its reply arrived: the retry on a
    fresh connection finds the key holding this claim's own token and succeeds; others still fail."""
    store = RedisNonceStore(REDIS_URL, prefix=redis_prefix)
    dropped: list[str] = []
    original = Connection.read_response

    async def lose_the_first_reply(self: Connection, *args: Any, **kwargs: Any) -> Any:
        reply = await original(self, *args, **kwargs)
        if not dropped:
            dropped.append("after SET")
            await self.disconnect()
            raise RedisConnectionError("connection lost after the command ran")
        return reply

    try:
        assert await store.claim("alice", "warm-up-nonce-00001", 60) is True  # a pooled connection
        monkeypatch.setattr(Connection, "read_response", lose_the_first_reply)
        assert await store.claim("alice", NONCE, 60) is True
        monkeypatch.undo()
        assert dropped == ["after SET"]
        assert await store.claim("alice", NONCE, 60) is False
        assert await store.claim("alice", NONCE, 60, scope="a1b2") is False
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_scoped_claims_survive_a_retry(redis_prefix: str) -> None:
    """The token before the scope does not break re-claiming within one HTTP request."""
    store = RedisNonceStore(REDIS_URL, prefix=redis_prefix)
    try:
        assert await store.claim("alice", NONCE, 60, scope="a1b2") is True
        assert await store.claim("alice", NONCE, 60, scope="a1b2") is True
        assert await store.claim("alice", NONCE, 60, scope="a1b") is False
    finally:
        await store.aclose()


async def test_unreachable_store_is_a_warning_distinct_from_a_bad_key(
    users: SqlUserStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down: one WARNING naming the reason; a wrong signature: counted, but no warning."""
    key = await users.add_user("alice")
    store = RedisNonceStore(CLOSED_PORT_URL, timeout=1.0)
    verifier = Verifier(users, store)
    try:
        with caplog.at_level(logging.INFO, logger="rpcbridge.auth"):
            creds, _ = credentials_from_params(auth_params("alice", key))
            with pytest.raises(AuthFailure):
                await verifier.verify(creds, "echo")
            forged, _ = credentials_from_params(auth_params("alice", "not-the-key"))
            with pytest.raises(AuthFailure) as caught:
                await verifier.verify(forged, "echo")
    finally:
        await store.aclose()
    assert caught.value.reason is Reason.BAD_SIGNATURE
    [warning] = [r for r in caplog.records if r.name == "rpcbridge.auth"]
    assert warning.levelno == logging.WARNING
    assert "nonce_store_unavailable" in warning.getMessage()
