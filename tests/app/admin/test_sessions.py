"""Session cookies and CSRF tokens on their own, with a fake clock."""

from __future__ import annotations

import pytest

from bridge.admin.login_throttle import LoginThrottle
from bridge.admin.sessions import SessionSigner

KEY = b"k" * 32


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_session_round_trip() -> None:
    """A cookie reads back as the session it was issued for, under the same password hash."""
    signer = SessionSigner(KEY, clock=Clock())
    session, cookie = signer.issue(logged_in=True, binding="hash-1")
    assert signer.read(cookie, "hash-1") == session
    assert signer.read(cookie, "hash-2") is None


def test_session_expires_after_its_lifetime() -> None:
    """A cookie stops working once its lifetime has passed."""
    clock = Clock()
    signer = SessionSigner(KEY, lifetime=100, clock=clock)
    _, cookie = signer.issue(logged_in=True, binding="h")
    clock.now += 99
    assert signer.read(cookie, "h") is not None
    clock.now += 1
    assert signer.read(cookie, "h") is None


def test_cookie_from_another_key_is_refused() -> None:
    """A cookie signed under another key (another process, by default) is refused."""
    _, cookie = SessionSigner(b"a" * 32).issue(logged_in=True)
    assert SessionSigner(b"b" * 32).read(cookie) is None


def test_visitor_cookie_cannot_be_promoted() -> None:
    """Turning a visitor cookie's kind into "logged in" breaks its signature."""
    signer = SessionSigner(KEY)
    _, cookie = signer.issue(logged_in=False)
    parts = cookie.split(".")
    parts[3] = "a"
    assert signer.read(".".join(parts), "") is None


@pytest.mark.parametrize("cookie", ["", "garbage", "v1.a.b.c.d", "v1.x.notanumber.a." + "0" * 64, "v2....."])
def test_malformed_cookies_are_refused(cookie: str) -> None:
    """Cookies that are not ours read as no session, without raising."""
    assert SessionSigner(KEY).read(cookie) is None


def test_csrf_token_is_per_session() -> None:
    """Each session has its own CSRF token, which checks only for that session."""
    signer = SessionSigner(KEY)
    first, _ = signer.issue(logged_in=True)
    second, _ = signer.issue(logged_in=True)
    assert signer.check_csrf(first, signer.csrf_token(first))
    assert not signer.check_csrf(second, signer.csrf_token(first))
    assert not signer.check_csrf(first, None)
    assert not signer.check_csrf(first, "é")


def test_short_key_is_refused() -> None:
    """A session key under 32 bytes is a configuration error."""
    with pytest.raises(ValueError, match="32 bytes"):
        SessionSigner(b"short")


def test_throttle_window_slides() -> None:
    """The throttle allows `limit` attempts per window per address, and again once the window moved."""
    clock = Clock(0.0)
    throttle = LoginThrottle(limit=2, window=60, clock=clock)
    assert throttle.attempt("a") and throttle.attempt("a")
    assert not throttle.attempt("a")
    assert throttle.attempt("b")
    clock.now = 61
    assert throttle.attempt("a")
