"""Counts login attempts per remote address, so that guessing the admin password is slow.

Pure; imports only the standard library. No sleeping: past the limit, attempts are refused
outright until the window has moved on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final

MAX_ATTEMPTS: Final = 10
WINDOW_SECONDS: Final = 60.0
# Bounds the memory an attacker with many addresses can make us spend.
MAX_ADDRESSES: Final = 10_000

AttemptCheck = Callable[[str], Awaitable[bool]]
"""Records a login attempt from an address; False when it is refused (memory, or Redis to share)."""


class LoginThrottle:
    """A sliding window of login attempts per address: at most `limit` per `window` seconds."""

    def __init__(
        self,
        limit: int = MAX_ATTEMPTS,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def attempt(self, address: str) -> bool:
        """Record an attempt from `address`; False when it is over the limit (and is refused)."""
        now = self._clock()
        horizon = now - self._window
        if len(self._attempts) >= MAX_ADDRESSES:
            self._attempts = {
                addr: times for addr, times in self._attempts.items() if times and times[-1] > horizon
            }
        times = self._attempts.setdefault(address, deque())
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= self._limit:
            return False
        times.append(now)
        return True


def in_process(throttle: LoginThrottle) -> AttemptCheck:
    """`throttle` as an `AttemptCheck`: attempts counted by this process only (one sidecar)."""

    async def attempt(address: str) -> bool:
        return throttle.attempt(address)

    return attempt
