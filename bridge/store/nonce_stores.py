"""Nonce caches behind `NonceStore`: in memory for one sidecar, Redis to share between sidecars.

Imports redis.asyncio only for `RedisNonceStore`. A claim is atomic in both: the memory store
runs on one event loop without awaiting in between, Redis uses `SET key 1 NX EX ttl`.
When Redis cannot be reached a claim raises `NonceStoreUnavailable`, so authentication fails
closed instead of letting a possible replay through.
"""

from __future__ import annotations

import heapq
import time
import urllib.parse
from collections.abc import Callable
from typing import Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bridge.store.interfaces import NonceStoreUnavailable

DEFAULT_PREFIX: Final = "rpcbridge:nonce:"


def nonce_key(username: str, nonce: str) -> str:
    """An unambiguous cache key: the username's length keeps ("a:b", "c") apart from ("a", "b:c")."""
    return f"{len(username)}:{username}:{nonce}"


class MemoryNonceStore:
    """Nonces in a dict with expiry times, pruned as they expire; good for a single sidecar.

    Args:
        clock: seconds on a monotonic scale, injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._expiry)

    def _prune(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            expiry, key = heapq.heappop(self._heap)
            if self._expiry.get(key) == expiry:
                del self._expiry[key]

    async def claim(self, username: str, nonce: str, ttl_seconds: int) -> bool:
        """Record the nonce for `ttl_seconds`; False when it was already recorded (a replay)."""
        now = self._clock()
        self._prune(now)
        key = nonce_key(username, nonce)
        if key in self._expiry:
            return False
        expiry = now + max(1, int(ttl_seconds))
        self._expiry[key] = expiry
        heapq.heappush(self._heap, (expiry, key))
        return True

    async def aclose(self) -> None:
        """Forget every nonce."""
        self._expiry.clear()
        self._heap.clear()


def _redacted(url: str) -> str:
    """The Redis URL without credentials or query, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}{parts.path}"


class RedisNonceStore:
    """Nonces in Redis with `SET NX EX`, shared by every sidecar pointed at the same server.

    Args:
        prefix: put before every key, so several deployments (or test runs) can share a server.
        timeout: seconds to connect and to wait for a reply before the store counts as unavailable.
    """

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, timeout: float = 2.0) -> None:
        self._where = _redacted(url)
        self._prefix = prefix
        self._client = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, decode_responses=False
        )

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._prefix

    async def claim(self, username: str, nonce: str, ttl_seconds: int) -> bool:
        """Record the nonce for `ttl_seconds`; False when it was already recorded (a replay).

        Raises NonceStoreUnavailable when Redis cannot be reached or fails.
        """
        key = self._prefix + nonce_key(username, nonce)
        try:
            created = await self._client.set(key, b"1", nx=True, ex=max(1, int(ttl_seconds)))
        except (RedisError, OSError) as exc:
            raise NonceStoreUnavailable(
                f"nonce store unavailable: Redis at {self._where}: {type(exc).__name__}"
            ) from exc
        return bool(created)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
