"""Admin login attempts counted in Redis, so the throttle holds across every sidecar.

Imports redis.asyncio. A sliding window per address, a sorted set of attempt times, updated and
counted in one MULTI (one round trip, atomic); refused attempts count too, so hammering keeps an
address out. While Redis cannot be reached the process's own count decides, so an outage neither
locks the admin out nor lifts the limit.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("rpcbridge.sidecar")

DEFAULT_PREFIX: Final = "rpcbridge:login:"


class RedisLoginThrottle:
    """At most `limit` login attempts per address per `window` seconds, counted in Redis.

    Args:
        fallback: decides (and counts) an attempt while Redis is unreachable.
    """

    def __init__(
        self,
        url: str,
        limit: int,
        window: float,
        fallback: Callable[[str], bool],
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=2.0)
        self._limit = limit
        self._window = window
        self._fallback = fallback
        self._prefix = prefix
        self._clock = clock

    async def attempt(self, address: str) -> bool:
        """Record an attempt from `address`; False when it is over the limit (and is refused)."""
        now = self._clock()
        key = self._prefix + address
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, 0, now - self._window)
                pipe.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})
                pipe.zcard(key)
                pipe.expire(key, int(self._window) + 1)
                _, _, count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("login throttle: Redis unreachable (%s); counting here", type(exc).__name__)
            return self._fallback(address)
        return bool(count <= self._limit)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
