"""Settings: one frozen, validated object built once at the entry point.

The only module that reads `os.environ`. Precedence: `--config FILE` (TOML), then `RPCBRIDGE_*`
environment variables, then command-line flags. Everything else receives what it needs.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError

ENV_PREFIX = "RPCBRIDGE_"


@dataclass(frozen=True, slots=True)
class Limits:
    """Parser limits, checked before any work is done on a request (see docs/security.md)."""

    max_body_bytes: int = 1 << 20
    max_depth: int = 64
    max_batch: int = 100
    max_multicall: int = 100


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for mutual TLS: the CA both sides trust, and this process's certificate and key."""

    ca: Path
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of every process; each process reads the part it needs."""

    data_dir: Path = Path(".rpcbridge")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    admin_host: str = "127.0.0.1"
    admin_port: int = 8081
    # Where the frontend finds the sidecar; empty means grpc_host:grpc_port.
    sidecar_target: str = ""
    # Worker addresses the sidecar routes to (host:port).
    workers: tuple[str, ...] = ()
    catalogue_refresh_seconds: float = 2.0
    # Carry calls between the bridge's own processes on multiplexed, micro-batched streams;
    # false sends one unary gRPC call per call (docs/concepts.md, "Transport").
    stream_calls: bool = True
    max_body_bytes: int = 1 << 20
    max_depth: int = 64
    max_batch: int = 100
    max_multicall: int = 100
    default_timeout: float = 30.0
    max_timeout: float = 300.0
    # Empty means SQLite in data_dir; postgresql://... for PostgreSQL.
    database_url: str = ""
    # Empty means an in-memory nonce cache; redis://... to share it between sidecars.
    redis_url: str = ""
    # Shared secret the sidecar sends and workers demand; empty disables the check.
    worker_secret: str = ""
    # mTLS between sidecar and workers (PEM file paths); all three set turns it on. Workers then
    # serve TLS and demand a client certificate signed by worker_tls_ca; the sidecar presents its own.
    worker_tls_ca: str = ""
    worker_tls_cert: str = ""
    worker_tls_key: str = ""
    auth_skew_seconds: int = 300
    # Key (urlsafe base64 Fernet key) under which API keys are stored encrypted; empty: plain.
    key_encryption_key: str = ""
    log_incoming: bool = True
    log_outgoing: bool = True
    log_arguments: bool = False
    log_retention_days: int = 30
    pickle_enabled: bool = False
    # Background jobs (docs/jobs.md): jobs run at once per sidecar; seconds one run may take
    # (0: max_timeout); days finished jobs and their events are kept; longest wait between retries.
    job_concurrency: int = 4
    job_timeout: float = 0.0
    job_retention_days: int = 7
    job_retry_max_seconds: float = 60.0
    log_level: str = "INFO"
    # "text" (one `key=value` line per record) or "json" (one JSON object per line).
    log_format: str = "text"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("http_port", "grpc_port", "admin_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name} must be 0..65535, not {port}")
        for name in ("max_body_bytes", "max_depth", "max_batch", "max_multicall"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if not 0 < self.default_timeout <= self.max_timeout:
            raise ConfigError("default_timeout must be positive and at most max_timeout")
        if self.auth_skew_seconds < 1:
            raise ConfigError("auth_skew_seconds must be at least 1")
        if self.job_concurrency < 1 or self.job_retention_days < 1:
            raise ConfigError("job_concurrency and job_retention_days must be at least 1")
        if self.job_timeout < 0 or self.job_retry_max_seconds <= 0:
            raise ConfigError("job_timeout must be 0 (max_timeout) or more, job_retry_max_seconds positive")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"log_format must be 'text' or 'json', not {self.log_format!r}")

    @property
    def worker_tls(self) -> TlsFiles | None:
        """The mTLS files between sidecar and workers, or None when mTLS is off."""
        files = (self.worker_tls_ca, self.worker_tls_cert, self.worker_tls_key)
        if not any(files):
            return None
        if not all(files):
            raise ConfigError("worker_tls_ca, worker_tls_cert and worker_tls_key go together")
        return TlsFiles(*(Path(name) for name in files))

    @property
    def limits(self) -> Limits:
        """The parser limits as one object for the codecs."""
        return Limits(self.max_body_bytes, self.max_depth, self.max_batch, self.max_multicall)

    @property
    def job_deadline(self) -> float:
        """Seconds one run of a background job may take: `job_timeout`, or `max_timeout` when 0."""
        return self.job_timeout or self.max_timeout

    @property
    def sidecar_address(self) -> str:
        """Where the frontend reaches the sidecar."""
        return self.sidecar_target or f"{self.grpc_host}:{self.grpc_port}"

    @property
    def database(self) -> str:
        """The store URL: the configured one, or SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'rpcbridge.sqlite3'}"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}
_HINTS = typing.get_type_hints(Settings)


def _coerce(name: str, raw: Any) -> Any:
    """Convert a TOML, environment or flag value to the field's type, or fail clearly."""
    hint = _HINTS[name]
    try:
        if hint is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if hint is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if hint is float:
            return float(raw)
        if hint is Path:
            return Path(raw)
        if hint == tuple[str, ...]:
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(item).strip() for item in items if str(item).strip())
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot use {raw!r}") from exc


def load_settings(
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from a TOML file, then `RPCBRIDGE_*` variables, then flags (None = unset)."""
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if config_file is not None:
        try:
            document = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {config_file}: {exc}") from exc
        section = document.get("rpcbridge", document)
        for key, raw in section.items():
            if key in _FIELDS:
                values[key] = _coerce(key, raw)
            else:
                extra[key] = raw
    env = os.environ if environ is None else environ
    for key, raw in env.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name in _FIELDS:
                values[name] = _coerce(name, raw)
    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _coerce(key, raw)
    return Settings(**values, extra=extra)


def secret_from_environment(variable: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of an environment variable a flag names (so a secret never shows in `ps`)."""
    value = (os.environ if environ is None else environ).get(variable, "")
    if not value:
        raise ConfigError(f"environment variable {variable} is not set")
    return value
