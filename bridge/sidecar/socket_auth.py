"""WebSocket authentication at the sidecar: verify a socket's credentials once, mint its token,
vouch for its calls, and notice within a poll interval when its user or key stops being valid.

The token is `v1.<key id>.<user>.<HMAC-SHA256>` under a random key kept in the database (every
sidecar of a deployment shares it; no frontend ever sees it). Pure of transport: no grpc.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Final

from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.verifier import Verifier, signature_matches, signed_message
from bridge.calls import Credentials
from bridge.events.realtime import SocketControl, SocketIdentity, scopes_allow
from bridge.store.interfaces import StoreError, UserStore
from bridge.store.records import ActiveUser

log = logging.getLogger("rpcbridge.realtime")

TOKEN_VERSION: Final = "v1"  # noqa: S105 (a format version)
AUTHENTICATE: Final = "rpc.authenticate"
# The admin_settings row holding the token key, made by the first sidecar that starts.
TOKEN_KEY_SETTING: Final = "socket_token_key"  # noqa: S105 (a row name)


class SocketTokens:
    """Mints and checks socket tokens under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, user: str, key_id: int) -> str:
        message = f"{TOKEN_VERSION}.{key_id}.{user}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def mint(self, user: str, key_id: int) -> str:
        """A token naming the user and the key it authenticated with."""
        return f"{TOKEN_VERSION}.{key_id}.{user}.{self._mac(user, key_id)}"

    def check(self, token: str) -> tuple[str, int] | None:
        """The (user, key id) a genuine token names, else None."""
        version, _, rest = token.partition(".")
        key_text, _, rest = rest.partition(".")
        user, _, mac = rest.rpartition(".")
        if version != TOKEN_VERSION or not key_text.isdigit() or not user:
            return None
        if not hmac.compare_digest(self._mac(user, int(key_text)), mac):
            return None
        return user, int(key_text)


class CredentialWatch:
    """Reads every enabled user's active keys each `interval` seconds and reports what went away.

    A user disabled or deleted yields `SocketControl(user)`; a key revoked, `SocketControl(user,
    key_id)`. Polling the store (rather than a notification the CLI would have to send) sees every
    way a credential can change, from any process, and every sidecar on a shared database sees it.
    """

    def __init__(self, users: UserStore, interval: float, on_change: Callable[[SocketControl], None]) -> None:
        self._users = users
        self._interval = interval
        self._on_change = on_change
        self.active: dict[str, ActiveUser] = {}

    async def refresh(self) -> None:
        """Read the store once and report every credential gone since the last read."""
        current = await self._users.active_credentials()
        for user, before in self.active.items():
            now = current.get(user)
            if now is None:
                self._on_change(SocketControl(user, 0, "user disabled or deleted"))
                continue
            for key_id in sorted(before.key_ids - now.key_ids):
                self._on_change(SocketControl(user, key_id, "key revoked"))
        self.active = current

    def note(self, user: str, scopes: tuple[str, ...], key_id: int) -> None:
        """Count a credential just verified as active, before the next read sees it."""
        known = self.active.get(user)
        key_ids = known.key_ids if known is not None else frozenset()
        self.active[user] = ActiveUser(scopes, key_ids | {key_id})

    async def run(self) -> None:
        """Refresh forever; a store that cannot be read is retried at the next tick."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except StoreError as exc:
                log.warning("cannot read credentials for open sockets: %s", exc)


class SocketAuthority:
    """Authenticates sockets and vouches for the calls their tokens carry."""

    def __init__(
        self, verifier: Verifier, users: UserStore, tokens: SocketTokens, watch: CredentialWatch
    ) -> None:
        self._verifier = verifier
        self._users = users
        self._tokens = tokens
        self._watch = watch

    async def authenticate(self, creds: Credentials) -> SocketIdentity:
        """Verify a socket's credentials (nonce claimed, as for any call); raise AuthFailure if refused."""
        user = await self._verifier.verify(creds, AUTHENTICATE, check_scope=False)
        try:
            keys = await self._users.active_keys_by_id(user.username)
        except StoreError as exc:
            raise AuthFailure(Reason.USER_STORE_UNAVAILABLE, str(exc)) from exc
        message = signed_message(creds)
        key_id = next((i for i, key in keys if signature_matches([key], message, creds.signature)), None)
        if key_id is None:  # revoked between the two reads
            raise AuthFailure(Reason.BAD_SIGNATURE, "the key was revoked while the socket authenticated")
        self._watch.note(user.username, user.scopes, key_id)
        return SocketIdentity(self._tokens.mint(user.username, key_id), user.username, key_id, user.scopes)

    def vouch(self, token: str, procedure: str) -> str:
        """The user a socket token proves, allowed to call `procedure`; else raise AuthFailure."""
        user, active = self._active(token)
        if not scopes_allow(active.scopes, procedure):
            raise AuthFailure(Reason.SCOPE, f"{procedure!r} is outside the scopes of {user!r}")
        return user

    def identify(self, token: str) -> str | None:
        """The user a socket token proves, whatever the procedure; None when it proves nobody now."""
        try:
            return self._active(token)[0]
        except AuthFailure:
            return None

    def _active(self, token: str) -> tuple[str, ActiveUser]:
        named = self._tokens.check(token)
        if named is None:
            raise AuthFailure(Reason.BAD_SIGNATURE, "socket token is not genuine")
        user, key_id = named
        active = self._watch.active.get(user)
        if active is None or key_id not in active.key_ids:
            raise AuthFailure(Reason.DISABLED, f"socket of {user!r}: user disabled or key {key_id} revoked")
        return user, active
