"""Socket tokens and the credential watch: what the sidecar vouches for, and when it stops."""

from __future__ import annotations

from bridge.events.realtime import SocketControl
from bridge.sidecar.socket_auth import CredentialWatch, SocketTokens
from bridge.store.records import ActiveUser


def test_a_token_names_its_user_and_key_and_cannot_be_altered() -> None:
    """Only the key that minted a token accepts it; changing any part breaks it."""
    tokens = SocketTokens(b"k" * 32)
    token = tokens.mint("alice.smith@example", 7)
    assert tokens.check(token) == ("alice.smith@example", 7)
    assert SocketTokens(b"x" * 32).check(token) is None
    assert tokens.check(token.replace(".7.", ".8.")) is None
    assert tokens.check(token.replace("alice", "mallory")) is None
    for junk in ("", "v1", "v1.x.alice.00", "v2" + token[2:]):
        assert tokens.check(junk) is None


class Credentials:
    """A user store that only answers active_credentials, from a dict the test changes."""

    def __init__(self) -> None:
        self.active: dict[str, ActiveUser] = {}

    async def active_credentials(self) -> dict[str, ActiveUser]:
        return dict(self.active)


async def test_the_watch_reports_disabled_users_and_revoked_keys_only() -> None:
    """A user gone closes all of its sockets; a key gone, those on that key; a new key nothing."""
    store = Credentials()
    seen: list[SocketControl] = []
    watch = CredentialWatch(store, 0.5, seen.append)  # type: ignore[arg-type]
    store.active = {"alice": ActiveUser((), frozenset({1})), "bob": ActiveUser((), frozenset({2}))}
    await watch.refresh()
    store.active = {"alice": ActiveUser((), frozenset({1, 3})), "bob": ActiveUser((), frozenset({2}))}
    await watch.refresh()
    assert seen == []  # a rotation adds a key and closes nothing
    store.active = {"alice": ActiveUser((), frozenset({3}))}
    await watch.refresh()
    assert set(seen) == {
        SocketControl("alice", 1, "key revoked"),
        SocketControl("bob", 0, "user disabled or deleted"),
    }
    assert SocketControl("alice", 1).applies_to("alice", 1)
    assert not SocketControl("alice", 1).applies_to("alice", 3)
    assert SocketControl("bob", 0).applies_to("bob", 2)
