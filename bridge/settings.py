"""Settings: one frozen, validated root object built once at the entry point, with per-role views.

The only module that reads `os.environ`. Precedence: `--config FILE` (TOML), then `RPCBRIDGE_*`
environment variables, then command-line flags. Everything else receives what it needs.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import logging
import os
import tomllib
import typing
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError

ENV_PREFIX = "RPCBRIDGE_"
# Reserved for the test suite (RPCBRIDGE_TEST_POSTGRES_URL, ...): never read as settings.
TEST_ENV_PREFIX = "RPCBRIDGE_TEST_"
# The OpenTelemetry SDK's standard variable, honoured when `otel_endpoint` is not set.
OTEL_ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class Limits:
    """Parser limits, checked before any work is done on a request (see docs/security.md)."""

    max_body_bytes: int = 1 << 20
    max_depth: int = 64
    max_batch: int = 100
    max_multicall: int = 100

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            if getattr(self, item.name) < 1:
                raise ConfigError(f"{item.name} must be at least 1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for mutual TLS: the CA both sides trust, and this process's certificate and key."""

    ca: Path
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class WebSocketLimits:
    """The bounds of `GET /ws` (docs/realtime.md): queue, recovery, message size, counts, idle time."""

    send_queue: int = 1000
    recovery_limit: int = 1000
    max_message_bytes: int = 1 << 20
    max_subscriptions: int = 100
    max_sockets: int = 10_000
    idle_seconds: float = 300.0
    heartbeat_seconds: float = 20.0


@dataclass(frozen=True, slots=True)
class FrontendSettings:
    """What the HTTP frontend uses, and nothing more: it holds no secret and opens no store."""

    http_host: str
    http_port: int
    sidecar_addresses: tuple[str, ...]
    stream_calls: bool
    limits: Limits
    http_header_timeout: float
    http_body_timeout: float
    default_timeout: float
    max_timeout: float
    pickle_enabled: bool
    trusted_proxies: tuple[str, ...] = ()
    websocket: WebSocketLimits = field(default_factory=WebSocketLimits)


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    """Every setting of every process; the frontend receives its view, `frontend`."""

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
    # In the file and the environment these are flat keys (max_body_bytes, ...), as before.
    limits: Limits = field(default_factory=Limits)
    # Seconds a client has to send a request's headers (from connecting, or from the previous
    # response on a kept-alive connection: an idle connection is closed then too), and its body.
    http_header_timeout: float = 15.0
    http_body_timeout: float = 30.0
    default_timeout: float = 30.0
    max_timeout: float = 300.0
    # Empty means SQLite in data_dir; postgresql://... for PostgreSQL.
    database_url: str = ""
    # Apply schema migrations when a process opens the database; false only checks the schema and
    # refuses to start on an older one, leaving migrating to `rpcbridge db migrate` (one deploy step).
    auto_migrate: bool = True
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
    # A running job's claim lasts job_lease_seconds and is renewed every job_heartbeat_seconds, so
    # another sidecar takes the jobs of one that died within about a lease.
    job_lease_seconds: float = 10.0
    job_heartbeat_seconds: float = 3.0
    log_level: str = "INFO"
    # Events and webhooks (docs/events.md): days events and their delivery logs are kept; seconds
    # between failed attempts (one more attempt than delays); where webhooks may go besides the
    # public internet; seconds one attempt may take; how long a listener may fail before it is
    # disabled; the longest Retry-After honoured; how long a rotated-out secret still signs;
    # attempts in flight in all and per listener.
    event_retention_days: int = 30
    webhook_retry_schedule: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_allow_http: bool = False
    webhook_timeout: float = 10.0
    webhook_disable_after: float = 5 * 86400.0
    webhook_retry_after_max: float = 3600.0
    webhook_secret_overlap: float = 86400.0
    webhook_concurrency: int = 16
    webhook_concurrency_per_listener: int = 2
    # Mail listeners (docs/events.md, "E-mail"): the SMTP server (smtp://user:pass@host:587?starttls=true
    # or smtps://host:465), the From address, whether API users may add mailto: listeners (the
    # operator always may), and the addresses that get one job.failed listener, owner admin.
    smtp_url: str = ""
    smtp_from: str = "rpcbridge@localhost"
    webhook_allow_mailto: bool = False
    admin_emails: tuple[str, ...] = ()
    # Prometheus /metrics of the sidecar or a worker on a port of its own: -1 (default) off (the
    # sidecar's stay at the admin site's /metrics), 0 a kernel-chosen port, else that port.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = -1
    # OTLP/gRPC collector for OpenTelemetry spans (needs rpcbridge[otel]); empty: no spans exported.
    # Unset, the standard OTEL_EXPORTER_OTLP_ENDPOINT variable is used.
    otel_endpoint: str = ""
    # WebSockets on the frontend (docs/realtime.md): messages queued per socket before it is closed
    # with 4008; events a resuming subscription may replay; the largest message; subscriptions per
    # socket; sockets per frontend; seconds without a message before a socket is closed; seconds
    # between pings; entries the Redis event history keeps; how often the sidecar looks for
    # disabled users and revoked keys; where browsers reach the frontend (the admin events page).
    ws_send_queue: int = 1000
    ws_recovery_limit: int = 1000
    ws_max_message_bytes: int = 1 << 20
    ws_max_subscriptions: int = 100
    ws_max_sockets: int = 10_000
    ws_idle_seconds: float = 300.0
    ws_heartbeat_seconds: float = 20.0
    ws_history_length: int = 100_000
    ws_credentials_poll_seconds: float = 0.5
    # Put before the Redis keys of the event history, so deployments (or tests) can share a server.
    redis_prefix: str = "rpcbridge:"
    frontend_public_url: str = ""
    # The upstream methods a legacy adapter forwards; empty: ask the upstream's system.listMethods.
    legacy_methods: tuple[str, ...] = ()
    # "text" (one `key=value` line per record) or "json" (one JSON object per line).
    log_format: str = "text"
    # --- scale-out (docs/deployment.md) ---
    # Sidecars a frontend spreads its calls over (repeated --sidecar); empty: sidecar_target.
    sidecars: tuple[str, ...] = ()
    # Run workers and sidecars with no worker_secret (and no mTLS) on purpose; otherwise they refuse.
    worker_insecure: bool = False
    # Signs admin session cookies, shared by every sidecar (32+ bytes); or a file holding it.
    # Neither set: a key generated once into data_dir/admin_session_key.
    admin_session_key: str = ""
    admin_session_key_file: str = ""
    # Proxies (CIDRs) whose X-Forwarded-For is believed, on the frontend and the admin site.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("http_port", "grpc_port", "admin_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name} must be 0..65535, not {port}")
        if not -1 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be -1 (off) or 0..65535, not {self.metrics_port}")
        if self.log_level.upper() not in _LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(_LOG_LEVELS)}, not {self.log_level!r}")
        if self.http_header_timeout <= 0 or self.http_body_timeout <= 0:
            raise ConfigError("http_header_timeout and http_body_timeout must be positive")
        if not 0 < self.default_timeout <= self.max_timeout:
            raise ConfigError("default_timeout must be positive and at most max_timeout")
        if self.auth_skew_seconds < 1:
            raise ConfigError("auth_skew_seconds must be at least 1")
        if self.job_concurrency < 1 or self.job_retention_days < 1:
            raise ConfigError("job_concurrency and job_retention_days must be at least 1")
        if self.job_timeout < 0 or self.job_retry_max_seconds <= 0:
            raise ConfigError("job_timeout must be 0 (max_timeout) or more, job_retry_max_seconds positive")
        if not 0 < self.job_heartbeat_seconds < self.job_lease_seconds:
            raise ConfigError("job_heartbeat_seconds must be positive and below job_lease_seconds")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"log_format must be 'text' or 'json', not {self.log_format!r}")
        for cidr in self.trusted_proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ConfigError(f"trusted_proxies: {cidr!r} is not an address or CIDR") from exc
        self._check_webhooks()
        self._check_websockets()

    def _check_websockets(self) -> None:
        counts = ("ws_send_queue", "ws_recovery_limit", "ws_max_message_bytes", "ws_max_subscriptions")
        for name in (*counts, "ws_max_sockets", "ws_history_length"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.ws_idle_seconds <= 0 or self.ws_heartbeat_seconds <= 0:
            raise ConfigError("ws_idle_seconds and ws_heartbeat_seconds must be positive")
        if not 0.05 <= self.ws_credentials_poll_seconds <= 1.5:
            # Sockets must close within 2 s of a credential change (docs/realtime.md).
            raise ConfigError("ws_credentials_poll_seconds must be 0.05 to 1.5")
        if self.frontend_public_url and not self.frontend_public_url.startswith(("http://", "https://")):
            raise ConfigError("frontend_public_url must start with http:// or https://")

    def _check_webhooks(self) -> None:
        if self.event_retention_days < 1:
            raise ConfigError("event_retention_days must be at least 1")
        if any(not 0 <= delay < 10 * 86400 for delay in self.webhook_retry_schedule):
            raise ConfigError("webhook_retry_schedule: each delay is 0 to 864000 seconds")
        if not 0 < self.webhook_timeout <= 300:
            raise ConfigError("webhook_timeout must be more than 0 and at most 300 seconds")
        if self.webhook_disable_after <= 0:
            raise ConfigError("webhook_disable_after must be positive")
        if self.webhook_retry_after_max < 0 or self.webhook_secret_overlap < 0:
            raise ConfigError("webhook_retry_after_max and webhook_secret_overlap must be 0 or more")
        if self.webhook_concurrency < 1 or self.webhook_concurrency_per_listener < 1:
            raise ConfigError("webhook_concurrency and webhook_concurrency_per_listener must be at least 1")

    @property
    def worker_tls(self) -> TlsFiles | None:
        """The mTLS files between sidecar and workers, or None when mTLS is off."""
        files = (self.worker_tls_ca, self.worker_tls_cert, self.worker_tls_key)
        if not any(files):
            return None
        if not all(files):
            raise ConfigError("worker_tls_ca, worker_tls_cert and worker_tls_key go together")
        return TlsFiles(*(Path(name) for name in files))

    def __repr__(self) -> str:
        shown = (
            f"{item.name}={_masked(item.name, getattr(self, item.name))!r}"
            for item in dataclasses.fields(self)
        )
        return f"Settings({', '.join(shown)})"

    @property
    def frontend(self) -> FrontendSettings:
        """The frontend's view: only what it uses."""
        return FrontendSettings(
            http_host=self.http_host,
            http_port=self.http_port,
            sidecar_addresses=self.sidecars or (self.sidecar_address,),
            stream_calls=self.stream_calls,
            limits=self.limits,
            http_header_timeout=self.http_header_timeout,
            http_body_timeout=self.http_body_timeout,
            default_timeout=self.default_timeout,
            max_timeout=self.max_timeout,
            pickle_enabled=self.pickle_enabled,
            trusted_proxies=self.trusted_proxies,
            websocket=WebSocketLimits(
                send_queue=self.ws_send_queue,
                recovery_limit=self.ws_recovery_limit,
                max_message_bytes=self.ws_max_message_bytes,
                max_subscriptions=self.ws_max_subscriptions,
                max_sockets=self.ws_max_sockets,
                idle_seconds=self.ws_idle_seconds,
                heartbeat_seconds=self.ws_heartbeat_seconds,
            ),
        )

    def checked_worker_secret(self) -> str:
        """The worker secret; ConfigError when it is empty without mTLS or `worker_insecure`.

        An empty secret turns the workers' proof check off, so that must be said out loud.
        """
        if self.worker_secret or self.worker_tls is not None:
            return self.worker_secret
        if not self.worker_insecure:
            raise ConfigError(
                "worker_secret is empty: set RPCBRIDGE_WORKER_SECRET (the same on sidecars and"
                " workers), or worker_insecure = true to let any client call workers"
            )
        logging.getLogger("rpcbridge").warning(
            "worker_insecure: workers accept calls from any client (no worker_secret, no mTLS)"
        )
        return ""

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


_SECRETS = frozenset({"worker_secret", "key_encryption_key", "admin_session_key"})
_URLS = frozenset({"database_url", "redis_url", "smtp_url"})


def _masked(name: str, value: Any) -> Any:
    """A setting as `repr` shows it: secrets and URL passwords replaced by "***"."""
    if name in _SECRETS and value:
        return "***"
    if name in _URLS and value:
        parts = urllib.parse.urlsplit(value)
        if parts.password is not None:
            host = parts.netloc.rpartition("@")[2]
            return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()
    return value


_LIMIT_NAMES = frozenset(f.name for f in dataclasses.fields(Limits))
_HINTS = {
    **typing.get_type_hints(Limits),
    **{name: hint for name, hint in typing.get_type_hints(Settings).items() if name != "limits"},
}


def _check_known(name: str, where: str) -> None:
    """ConfigError naming an unknown setting and the nearest valid one (a typo must not go unseen)."""
    if name in _HINTS:
        return
    nearest = difflib.get_close_matches(name, _HINTS, n=1)
    hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
    raise ConfigError(f"{where}: unknown setting {name!r}{hint}")


def _names(raw: Iterable[Any]) -> tuple[str, ...]:
    items = []
    for item in raw:
        if not isinstance(item, str):
            raise ValueError(item)
        if item.strip():
            items.append(item.strip())
    return tuple(items)


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
            return _names(raw.split(",") if isinstance(raw, str) else raw)
        if hint == tuple[float, ...]:
            items = raw.split(",") if isinstance(raw, str) else raw
            if isinstance(items, str | bytes) or not all(not isinstance(i, bool) for i in items):
                raise ValueError(raw)
            return tuple(float(item) for item in items if str(item).strip())
        if not isinstance(raw, str):
            raise TypeError(raw)
        return raw
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot use {raw!r}") from exc


def load_settings(
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from a TOML file, then `RPCBRIDGE_*` variables, then flags (None = unset).

    An unknown name in any of the three is a ConfigError; `RPCBRIDGE_TEST_*` variables are left alone.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            document = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {config_file}: {exc}") from exc
        section = document.get("rpcbridge", document)
        for key, raw in section.items():
            _check_known(key, str(config_file))
            values[key] = _coerce(key, raw)
    env = os.environ if environ is None else environ
    for key, raw in env.items():
        if key.startswith(ENV_PREFIX) and not key.startswith(TEST_ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            _check_known(name, f"environment variable {key}")
            values[name] = _coerce(name, raw)
    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        _check_known(key, "flags")
        values[key] = _coerce(key, raw)
    limits = {name: values.pop(name) for name in _LIMIT_NAMES & values.keys()}
    if "otel_endpoint" not in values and env.get(OTEL_ENDPOINT_VARIABLE):
        values["otel_endpoint"] = env[OTEL_ENDPOINT_VARIABLE]
    return Settings(**values, limits=Limits(**limits))


def secret_from_environment(variable: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of an environment variable a flag names (so a secret never shows in `ps`)."""
    value = (os.environ if environ is None else environ).get(variable, "")
    if not value:
        raise ConfigError(f"environment variable {variable} is not set")
    return value
