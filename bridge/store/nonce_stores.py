"""Nonce caches behind `NonceStore`: in memory for one sidecar, Redis to share between sidecars.

Imports redis.asyncio only for `RedisNonceStore`. A claim is atomic in both: the memory store
runs on one event loop without awaiting in between, Redis uses `SET key value NX EX ttl`.

A claim may carry a scope: the frontend's secret, random id for one HTTP request. Claiming a
nonce again with the same non-empty scope succeeds, so a JSON-RPC batch or a system.multicall
signed once is checked once per HTTP request (DESIGN.md, Security); any other reuse is a replay.
When Redis cannot be reached a claim raises `NonceStoreUnavailable`, so authentication fails
closed instead of letting a possible replay through. A connection Redis dropped (restart,
failover, idle `timeout`) is not "unreachable": the command runs again on a fresh connection.
"""

from __future__ import annotations

import heapq
import secrets
import time
import urllib.parse
from collections.abc import Callable
from typing import Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bridge.store.interfaces import NonceStoreUnavailable

DEFAULT_PREFIX: Final = "rpcbridge:nonce:"
CLIENT_NAME: Final = "rpcbridge-nonces"
# A dropped connection costs one more try on a new one; a server that is really gone costs
# `timeout` per try, so the retries stay few and the backoff short.
RETRIES: Final = 2
HEALTH_CHECK_SECONDS: Final = 5
_TOKEN_HEX: Final = 16


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
        self._scopes: dict[str, str] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._expiry)

    def _prune(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            expiry, key = heapq.heappop(self._heap)
            if self._expiry.get(key) == expiry:
                del self._expiry[key]
                self._scopes.pop(key, None)

    async def claim(self, username: str, nonce: str, ttl_seconds: int, scope: str = "") -> bool:
        """Record the nonce for `ttl_seconds`; False when already recorded under another scope (a replay)."""
        now = self._clock()
        self._prune(now)
        key = nonce_key(username, nonce)
        if key in self._expiry:
            return bool(scope) and self._scopes.get(key) == scope
        expiry = now + max(1, int(ttl_seconds))
        self._expiry[key] = expiry
        self._scopes[key] = scope
        heapq.heappush(self._heap, (expiry, key))
        return True

    async def aclose(self) -> None:
        """Forget every nonce."""
        self._expiry.clear()
        self._scopes.clear()
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

    Each claim stores a random token before its scope. A command is retried on a new connection
    when the old one dropped, and the first try's SET may have landed before the drop: finding the
    key holding this claim's own token then means the claim succeeded, not that it is a replay.

    Args:
        prefix: put before every key, so several deployments (or test runs) can share a server.
        timeout: seconds to connect and to wait for a reply before the store counts as unavailable.
        client_name: the name its connections carry in Redis's `CLIENT LIST`.
    """

    def __init__(
        self, url: str, prefix: str = DEFAULT_PREFIX, timeout: float = 2.0, client_name: str = CLIENT_NAME
    ) -> None:
        self._where = _redacted(url)
        self._prefix = prefix
        self._client = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            decode_responses=False,
            client_name=client_name,
            # Connections idle longer than this are PINGed before use, so a stale one is replaced.
            health_check_interval=HEALTH_CHECK_SECONDS,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
            retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        )

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._prefix

    async def claim(self, username: str, nonce: str, ttl_seconds: int, scope: str = "") -> bool:
        """Record the nonce for `ttl_seconds`; False when already recorded under another scope (a replay).

        Raises NonceStoreUnavailable when Redis cannot be reached or fails.
        """
        key = self._prefix + nonce_key(username, nonce)
        token = secrets.token_hex(_TOKEN_HEX // 2).encode()
        # An unscoped claim stores only the token, whose scope part (b"") no non-empty scope equals.
        value = token + scope.encode()
        try:
            if await self._client.set(key, value, nx=True, ex=max(1, int(ttl_seconds))):
                return True
            stored = await self._client.get(key)
            if stored == value:  # this claim's own SET, answered on a connection that then dropped
                return True
            return bool(scope) and stored is not None and stored[_TOKEN_HEX:] == scope.encode()
        except (RedisError, OSError) as exc:
            raise NonceStoreUnavailable(
                f"nonce store unavailable: Redis at {self._where}: {type(exc).__name__}"
            ) from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
