"""Admin sessions as signed cookies, and the CSRF token derived from each session.

Pure; imports only the standard library. A cookie reads `v1.<id>.<issued>.<kind>.<mac>`, where
kind is `a` (logged in) or `p` (a visitor of the login page, so that its form has a CSRF token
too) and mac is hex HMAC-SHA256 over the rest. A logged-in session's MAC also covers a digest of
the admin password hash, so `rpcbridge admin set-password` logs every session out. Logged-out
sessions are kept in the store (`AdminStore.revoke_session`), so every sidecar refuses them.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

COOKIE_NAME: Final = "rpcbridge_admin"
CSRF_FIELD: Final = "csrf_token"
LIFETIME_SECONDS: Final = 8 * 3600
# A cookie issued up to this far "in the future" is accepted, for clocks stepped back a little.
CLOCK_SLACK_SECONDS: Final = 60
_VERSION: Final = "v1"
_LOGGED_IN: Final = "a"
_VISITOR: Final = "p"


@dataclass(frozen=True, slots=True)
class Session:
    """One browser's session: a random id, when it was issued, and whether it is logged in."""

    session_id: str
    issued_at: int
    logged_in: bool


def _subkey(key: bytes, purpose: str) -> bytes:
    """Separate keys for separate uses, so a session MAC can never pass as a CSRF token."""
    return hmac.new(key, f"rpcbridge admin {purpose}".encode(), hashlib.sha256).digest()


class SessionSigner:
    """Issues and checks session cookies and CSRF tokens under one secret key.

    Args:
        key: at least 32 bytes, the same on every sidecar (setting `admin_session_key`); None
            draws a random key, valid for this process only.
        clock: unix time in seconds (tests pass a fake).
    """

    def __init__(
        self,
        key: bytes | None = None,
        lifetime: int = LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if key is None:
            key = secrets.token_bytes(32)
        if len(key) < 32:
            raise ValueError("the admin session key must be at least 32 bytes")
        self._mac_key = _subkey(key, "session")
        self._csrf_key = _subkey(key, "csrf")
        self.lifetime = lifetime
        self._clock = clock

    def _mac(self, body: str, binding: str) -> str:
        message = body.encode() + b"|" + hashlib.sha256(binding.encode()).digest()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()

    def issue(self, logged_in: bool, binding: str = "") -> tuple[Session, str]:
        """A new session and its cookie value; `binding` is the password hash for a logged-in one."""
        session = Session(secrets.token_urlsafe(18), int(self._clock()), logged_in)
        kind = _LOGGED_IN if logged_in else _VISITOR
        body = f"{_VERSION}.{session.session_id}.{session.issued_at}.{kind}"
        return session, f"{body}.{self._mac(body, binding if logged_in else '')}"

    def read(self, cookie: str | None, binding: str = "") -> Session | None:
        """The session a cookie holds, or None when it is missing, forged, expired or logged out."""
        if not cookie:
            return None
        parts = cookie.split(".")
        if len(parts) != 5 or parts[0] != _VERSION or parts[3] not in (_LOGGED_IN, _VISITOR):
            return None
        logged_in = parts[3] == _LOGGED_IN
        body, mac = ".".join(parts[:4]), parts[4]
        if not hmac.compare_digest(mac.encode(), self._mac(body, binding if logged_in else "").encode()):
            return None
        try:
            issued_at = int(parts[2])
        except ValueError:
            return None
        now = self._clock()
        if not now - self.lifetime < issued_at <= now + CLOCK_SLACK_SECONDS:
            return None
        return Session(parts[1], issued_at, logged_in)

    def expires_at(self, session: Session) -> datetime.datetime:
        """When the session's cookie stops being accepted anyway: how long a revocation must last."""
        return datetime.datetime.fromtimestamp(session.issued_at + self.lifetime, datetime.UTC)

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session carries in its `csrf_token` field."""
        return hmac.new(self._csrf_key, session.session_id.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: Session, token: str | None) -> bool:
        """True when `token` is this session's CSRF token (compared in constant time)."""
        if not token:
            return False
        return hmac.compare_digest(token.encode(), self.csrf_token(session).encode())
