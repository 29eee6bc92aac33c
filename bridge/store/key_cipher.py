"""How API keys are kept at rest: Fernet-encrypted under `key_encryption_key`, or plain.

HMAC verification needs the key itself, so keys are stored recoverably, never hashed. Imports
`cryptography` and the store exceptions only. Each stored value carries its form as a prefix
("fernet:" or "plain:"), so turning encryption on later still reads older plain keys.
"""

from __future__ import annotations

from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bridge.errors import ConfigError
from bridge.store.interfaces import SchemaError

FERNET_PREFIX: Final = "fernet:"
PLAIN_PREFIX: Final = "plain:"


class KeyCipher:
    """Encrypts API keys for storage and decrypts them for verification.

    `key_encryption_key` is empty (store plain) or one or more urlsafe-base64 Fernet keys
    separated by commas: the first encrypts, all decrypt, so the encryption key can be rotated.
    """

    def __init__(self, key_encryption_key: str = "") -> None:
        names = [part.strip() for part in key_encryption_key.split(",") if part.strip()]
        self._fernet: MultiFernet | None = None
        if names:
            try:
                self._fernet = MultiFernet([Fernet(name.encode("ascii")) for name in names])
            except (ValueError, UnicodeEncodeError) as exc:
                raise ConfigError(
                    "key_encryption_key must be urlsafe-base64 Fernet keys (32 bytes each), "
                    "separated by commas; make one with `Fernet.generate_key()`"
                ) from exc

    def seal(self, key: str) -> str:
        """The stored form of `key`."""
        if self._fernet is None:
            return PLAIN_PREFIX + key
        return FERNET_PREFIX + self._fernet.encrypt(key.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        """The key in a stored value; SchemaError when it cannot be decrypted with this configuration."""
        if stored.startswith(PLAIN_PREFIX):
            return stored[len(PLAIN_PREFIX) :]
        if not stored.startswith(FERNET_PREFIX):
            raise SchemaError("a stored API key has an unknown format")
        if self._fernet is None:
            raise SchemaError("API keys are stored encrypted but key_encryption_key is not set")
        try:
            return self._fernet.decrypt(stored[len(FERNET_PREFIX) :].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SchemaError("cannot decrypt a stored API key: wrong key_encryption_key?") from exc
