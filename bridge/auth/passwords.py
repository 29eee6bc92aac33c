"""Admin password hashing with salted scrypt (`hashlib.scrypt`), and checking in constant time.

Pure; imports only the standard library. A hash reads
"scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<digest, urlsafe base64>", so the cost can be raised
later while older hashes still verify. The plain password is never stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

ALGORITHM: Final = "scrypt"
# RFC 7914 section 2 and OWASP's password storage guidance: N=2**14, r=8, p=1 costs 16 MiB.
DEFAULT_N: Final = 1 << 14
DEFAULT_R: Final = 8
DEFAULT_P: Final = 1
# Bounds for parameters read back from a stored hash, so a tampered hash cannot exhaust memory.
MAX_N: Final = 1 << 20
MAX_R: Final = 32
MAX_P: Final = 16
SALT_BYTES: Final = 16
DIGEST_BYTES: Final = 32


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * n * r * p
    )


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """A salted scrypt hash of `password`, in the encoded form above."""
    if not isinstance(password, str) or not password:
        raise ValueError("the admin password must be a non-empty string")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, DIGEST_BYTES)
    return f"{ALGORITHM}${n}${r}${p}${_b64encode(salt)}${_b64encode(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches the hash; False for a wrong password or an unreadable hash."""
    parts = encoded.split("$") if isinstance(encoded, str) else []
    if len(parts) != 6 or parts[0] != ALGORITHM or not isinstance(password, str):
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = _b64decode(parts[4]), _b64decode(parts[5])
    except ValueError:
        return False
    if not (1 < n <= MAX_N and n & (n - 1) == 0 and 0 < r <= MAX_R and 0 < p <= MAX_P and expected):
        return False
    actual = _scrypt(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)
