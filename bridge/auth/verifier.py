"""`Verifier`: decides whether signed credentials may call a procedure, and as which user.

Imports the signing functions and the store seams; never a driver, grpc or aiohttp. The checks
run in this order, so that each is as cheap as possible and a forged request costs nothing:

1. field shapes (`signing.check_shape`)              reason "malformed"
2. timestamp within ±skew of the clock              reason "skew"
3. the user exists, then is enabled                 reasons "unknown_user", "disabled"
4. HMAC against each active key, in constant time   reason "bad_signature"
5. claim the nonce for this user until the timestamp leaves the window
                                                    reasons "replay", "nonce_store_unavailable"
6. the procedure matches one of the user's scopes   reason "scope" (FORBIDDEN)

The nonce is claimed only after the MAC matched: a forged request cannot burn a real client's
nonce, and a failed one can be retried. A user and their keys are read from the store at most
once per `cache_seconds` (1 s): reading them on every call cost three quarters of an authenticated
call's throughput (docs/benchmarks.md), and a key rotated or a user disabled by `rpcbridge users`
still counts within a second, without a restart.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from collections.abc import Callable

from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.signing import HEADER, canonical_request, check_shape, params_message, sign
from bridge.calls import Credentials
from bridge.store.interfaces import NonceStore, NonceStoreUnavailable, StoreError, UserStore
from bridge.store.records import User

DEFAULT_SKEW_SECONDS = 300
DEFAULT_CACHE_SECONDS = 1.0
MAX_CACHED_USERS = 10_000

log = logging.getLogger("rpcbridge.auth")


def signed_message(creds: Credentials) -> str:
    """The text the client must have signed, for either form."""
    if creds.form == HEADER:
        return canonical_request(
            creds.method, creds.path, creds.timestamp, creds.nonce, creds.username, creds.body_sha256.lower()
        )
    return params_message(creds.nonce, creds.timestamp, creds.username)


def signature_matches(keys: list[str], message: str, signature: str) -> bool:
    """True when any key signs `message` to `signature`; every key is tried, each in constant time."""
    presented = signature.lower()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(sign(key, message), presented)
    return matched


class Verifier:
    """Verifies credentials against a user store and claims nonces in a nonce store.

    Args:
        skew_seconds: how far the client's timestamp may lie from `clock()`, either way.
        clock: unix time in seconds; a parameter so tests can fix it.
        cache_seconds: how long a user and their keys, once read, are trusted (0: read every time).
        monotonic: the clock of that cache; a parameter so tests can move it.
    """

    def __init__(
        self,
        users: UserStore,
        nonces: NonceStore,
        skew_seconds: int = DEFAULT_SKEW_SECONDS,
        clock: Callable[[], float] = time.time,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if skew_seconds < 1:
            raise ValueError("skew_seconds must be at least 1")
        self._users = users
        self._nonces = nonces
        self._skew = skew_seconds
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, User | None, list[str]]] = {}
        self._reading: dict[str, asyncio.Future[tuple[User | None, list[str]]]] = {}

    async def verify(
        self, creds: Credentials, procedure: str, scope: str = "", *, check_scope: bool = True
    ) -> User:
        """The user the credentials prove, allowed to call `procedure`; else raise AuthFailure.

        Args:
            scope: the frontend's random id for the HTTP request; the same nonce is accepted again
                within one scope, so a batch or multicall signed once is checked once.
            check_scope: False when the credentials open a WebSocket rather than call `procedure`:
                each of the socket's calls is checked against the scopes later.
        """
        check_shape(creds)
        now = self._clock()
        timestamp = int(creds.timestamp)
        if abs(now - timestamp) > self._skew:
            raise AuthFailure(
                Reason.SKEW, f"timestamp {timestamp} is {now - timestamp:+.0f} s from now (±{self._skew} s)"
            )
        user, keys = await self._user_and_keys(creds.username)
        if user is None:
            raise AuthFailure(Reason.UNKNOWN_USER, f"no user {creds.username!r}")
        if not user.enabled:
            raise AuthFailure(Reason.DISABLED, f"user {user.username!r} is disabled")
        if not signature_matches(keys, signed_message(creds), creds.signature):
            raise AuthFailure(
                Reason.BAD_SIGNATURE, f"signature does not match any of {len(keys)} active keys"
            )
        # Hold the nonce until the timestamp leaves the window, plus a second for rounding.
        ttl = max(1, math.ceil(timestamp + self._skew - now) + 1)
        try:
            fresh = await self._nonces.claim(user.username, creds.nonce, ttl, scope)
        except NonceStoreUnavailable as exc:
            raise _unavailable(Reason.NONCE_STORE_UNAVAILABLE, exc) from exc
        if not fresh:
            raise AuthFailure(Reason.REPLAY, f"nonce already used by {user.username!r}")
        if check_scope and not user.allows(procedure):
            raise AuthFailure(Reason.SCOPE, f"{procedure!r} is outside the scopes of {user.username!r}")
        return user

    async def _user_and_keys(self, username: str) -> tuple[User | None, list[str]]:
        """The user (None: unknown) and, when enabled, their active keys: cached, else from the store.

        Calls that miss the cache together share one read, so a lapsing entry under load costs one
        round trip, not one per call in flight.
        """
        cached = self._cache.get(username)
        if cached is not None and self._monotonic() - cached[0] < self._cache_seconds:
            return cached[1], cached[2]
        reading = self._reading.get(username)
        if reading is None:
            reading = asyncio.ensure_future(self._read(username))
            self._reading[username] = reading
            reading.add_done_callback(lambda _: self._reading.pop(username, None))
        return await asyncio.shield(reading)

    async def _read(self, username: str) -> tuple[User | None, list[str]]:
        now = self._monotonic()
        try:
            user = await self._users.get(username)
            keys = await self._users.active_keys(username) if user is not None and user.enabled else []
        except StoreError as exc:
            raise _unavailable(Reason.USER_STORE_UNAVAILABLE, exc) from exc
        if self._cache_seconds > 0:
            if len(self._cache) >= MAX_CACHED_USERS:  # unknown names must not grow it without bound
                self._cache.clear()
            self._cache[username] = (now, user, keys)
        return user, keys


def _unavailable(reason: Reason, exc: StoreError) -> AuthFailure:
    """The refusal for a store that cannot be reached, logged as the operator's problem it is.

    A wrong key or a replay is the client's problem and only counted (by reason); an unreachable
    store refuses every caller, so it is a warning in the log as well.
    """
    log.warning("authentication refused: %s (%s)", reason.value, exc)
    return AuthFailure(reason, str(exc))
