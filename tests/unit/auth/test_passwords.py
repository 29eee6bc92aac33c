"""Admin password hashing: salted scrypt, checked in constant time, refusing tampered hashes."""

from __future__ import annotations

import pytest

from bridge.auth.passwords import hash_password, verify_password

# Cheap parameters keep the tests quick; the defaults are exercised once.
FAST = {"n": 1 << 4, "r": 1, "p": 1}


def test_default_hash_verifies_the_right_password_only() -> None:
    """A hash with default cost accepts its password and refuses another."""
    encoded = hash_password("correct horse")
    assert encoded.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horsE", encoded)


def test_hashes_are_salted() -> None:
    """Hashing the same password twice gives different hashes, both of which verify."""
    first, second = hash_password("pw", **FAST), hash_password("pw", **FAST)
    assert first != second
    assert verify_password("pw", first)
    assert verify_password("pw", second)


def test_hash_does_not_contain_the_password() -> None:
    """The encoded hash holds no trace of the plain password."""
    assert "hunter2" not in hash_password("hunter2", **FAST)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain$pw",
        "scrypt$16$1$1$c2FsdA",
        "scrypt$x$1$1$c2FsdA$ZGln",
        "scrypt$1099511627776$8$1$c2FsdA$ZGln",
    ],
    ids=["empty", "other-algorithm", "short", "non-numeric", "huge-cost"],
)
def test_unreadable_or_tampered_hash_never_verifies(encoded: str) -> None:
    """A hash that is malformed or asks for absurd cost is refused, never an exception."""
    assert verify_password("pw", encoded) is False


def test_empty_password_is_refused() -> None:
    """An empty admin password cannot be set."""
    with pytest.raises(ValueError, match="non-empty"):
        hash_password("")
