"""Small in-memory fakes of the store seams, and a fixed clock, for verifier tests."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bridge.store.interfaces import NonceStoreUnavailable, StoreUnavailable
from bridge.store.records import User

NOW = 1_700_000_000


class FixedClock:
    """A unix clock that moves only when told."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeUserStore:
    """Users and keys in dicts; counts lookups so tests can see which checks touched the store."""

    users: dict[str, User] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    lookups: int = 0
    fail: bool = False

    async def add_user(self, username: str, key: str | None = None, scopes: Sequence[str] = ()) -> str:
        key = key or f"key-of-{username}-0123456789"
        created = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        self.users[username] = User(username, True, tuple(scopes), created)
        self.keys[username] = [key]
        return key

    async def get(self, username: str) -> User | None:
        self.lookups += 1
        if self.fail:
            raise StoreUnavailable("database is down")
        return self.users.get(username)

    async def active_keys(self, username: str) -> list[str]:
        if self.fail:
            raise StoreUnavailable("database is down")
        return list(self.keys.get(username, []))

    async def list_users(self) -> list[User]:
        return sorted(self.users.values(), key=lambda user: user.username)

    async def set_enabled(self, username: str, enabled: bool) -> None:
        self.users[username] = replace(self.users[username], enabled=enabled)

    async def set_scopes(self, username: str, scopes: Sequence[str]) -> None:
        self.users[username] = replace(self.users[username], scopes=tuple(scopes))

    async def delete_user(self, username: str) -> None:
        del self.users[username]
        self.keys.pop(username, None)

    async def rotate_key(self, username: str, key: str | None = None) -> str:
        key = key or f"key-of-{username}-{len(self.keys[username])}-abcdefgh"
        self.keys[username].append(key)
        return key

    async def revoke_keys(self, username: str, keep_newest: int = 1) -> int:
        active = self.keys[username]
        kept = active[len(active) - keep_newest :] if keep_newest else []
        self.keys[username] = kept
        return len(active) - len(kept)


@dataclass
class RecordingNonceStore:
    """A nonce set that records each claim (with its TTL), or fails like an unreachable Redis."""

    claims: list[tuple[str, str, int]] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    unavailable: bool = False

    async def claim(self, username: str, nonce: str, ttl_seconds: int, scope: str = "") -> bool:
        if self.unavailable:
            raise NonceStoreUnavailable("nonce store unavailable: Redis at redis://127.0.0.1:1")
        self.claims.append((username, nonce, ttl_seconds))
        if (username, nonce) in self.seen:
            return False
        self.seen.add((username, nonce))
        return True
