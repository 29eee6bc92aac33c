"""What sidecars must share to stand in for one another: the admin session key, Redis beside PostgreSQL.

Reads and writes only files in the data directory; the settings say where everything else is.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Final

from bridge.errors import ConfigError
from bridge.settings import Settings

log = logging.getLogger("rpcbridge.sidecar")

GENERATED_KEY_FILE: Final = "admin_session_key"
MIN_KEY_BYTES: Final = 32


def require_shared_nonces(settings: Settings) -> None:
    """ConfigError for a shared PostgreSQL without Redis: each sidecar's own nonce cache would
    let a request replayed at another sidecar through (DESIGN.md, Scale-out)."""
    if settings.database.startswith("postgres") and not settings.redis_url:
        raise ConfigError(
            "database_url is PostgreSQL (shared by sidecars) but redis_url is empty: set redis_url so"
            " that sidecars share nonces, or a replay passes between them"
        )


def admin_session_key(settings: Settings) -> bytes:
    """The key that signs admin sessions: `admin_session_key`, the file `admin_session_key_file`
    names, or a key generated once into the data directory (one machine)."""
    if settings.admin_session_key and settings.admin_session_key_file:
        raise ConfigError("set admin_session_key or admin_session_key_file, not both")
    if settings.admin_session_key:
        key = settings.admin_session_key.encode()
    elif settings.admin_session_key_file:
        try:
            key = Path(settings.admin_session_key_file).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"admin_session_key_file: {exc}") from exc
    else:
        key = _generated_key(settings.data_dir / GENERATED_KEY_FILE)
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"the admin session key must be at least {MIN_KEY_BYTES} bytes")
    return key


def _generated_key(path: Path) -> bytes:
    """The key in `path`, created (mode 0600) by whichever process gets there first, whole."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(partial, path)  # fails when another process was first: its key wins
            log.info("generated the admin session key in %s (set admin_session_key to share it)", path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_bytes().strip()
