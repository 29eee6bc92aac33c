"""The upstream a legacy adapter forwards to: its settings, and a pool of client-kit points to it.

Blocking `http.client` calls run on a thread pool of `max_connections` threads, each call on an
idle point (one kept-alive connection each), so the adapter's event loop never waits on the
upstream. Must not import grpc or aiohttp.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bridge.auth.signing import auth_params
from bridge.client.jsonrpc_point import JSONRPCPoint
from bridge.client.recording import RecordSink
from bridge.client.rpc_point import ParamHook, RPCPoint
from bridge.client.transport import parse_endpoint
from bridge.client.xmlrpc_point import XMLRPCPoint
from bridge.errors import ConfigError

PROTOCOLS: Final = ("xmlrpc", "jsonrpc")


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """How a legacy adapter reaches its upstream server, and what it forwards.

    Args:
        url: the upstream's endpoint, e.g. "http://legacy.internal:8000/RPC2".
        protocol: "xmlrpc" or "jsonrpc".
        prefix: put before each upstream name to make the public name ("legacy." + "add").
        auth_user, auth_key: when set, the four rpcenable auth params are put first in every call.
        methods: upstream names to forward; empty means discover them with system.listMethods.
        timeout: seconds to wait for the upstream to connect and to answer.
        sidecar: the sidecar's "host:port" for outgoing-call records; empty records nothing.
        log_arguments: put arguments and results in those records (auth params redacted).
        max_connections: how many calls may be with the upstream at once.
    """

    url: str
    protocol: str = "xmlrpc"
    prefix: str = ""
    auth_user: str = ""
    auth_key: str = field(default="", repr=False)
    methods: tuple[str, ...] = ()
    timeout: float = 30.0
    sidecar: str = ""
    log_arguments: bool = False
    max_connections: int = 8

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(
                f"upstream protocol must be one of {', '.join(PROTOCOLS)}, not {self.protocol!r}"
            )
        try:
            parse_endpoint(self.url)
        except ValueError as exc:
            raise ConfigError(f"upstream URL: {exc}") from exc
        if bool(self.auth_user) != bool(self.auth_key):
            raise ConfigError("upstream auth needs both a user and a key")
        if not self.timeout > 0:
            raise ConfigError("upstream timeout must be a positive number of seconds")
        if self.max_connections < 1:
            raise ConfigError("max_connections must be at least 1")
        if any(not name or name != name.strip() for name in self.methods):
            raise ConfigError("upstream method names must be non-empty, without surrounding spaces")

    @property
    def display_url(self) -> str:
        """The upstream URL without credentials or query, for logs and messages."""
        return parse_endpoint(self.url).url

    def param_hook(self) -> ParamHook | None:
        """Puts fresh rpcenable auth params (a new nonce each call) before a call's own params."""
        if not self.auth_user:
            return None
        user, key = self.auth_user, self.auth_key
        return lambda params: [*auth_params(user, key), *params]


def open_point(config: UpstreamConfig, sink: RecordSink | None, with_auth: bool = True) -> RPCPoint:
    """A new point to the upstream, recording its calls to `sink`, adding auth params unless told not to."""
    point_class = XMLRPCPoint if config.protocol == "xmlrpc" else JSONRPCPoint
    return point_class(
        config.url,
        param_hook=config.param_hook() if with_auth else None,
        timeout=config.timeout,
        sidecar=sink,
        log_arguments=config.log_arguments,
    )


class PointPool:
    """Runs blocking calls on a bounded thread pool, each on an idle point (new ones made as needed)."""

    def __init__(self, factory: Callable[[], RPCPoint], max_connections: int) -> None:
        self._factory = factory
        self._idle: list[RPCPoint] = []
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_connections, thread_name_prefix="rpcbridge-upstream"
        )

    def _call(self, procedure: str, params: Sequence[Any], named: Mapping[str, Any]) -> Any:
        with self._lock:
            point = self._idle.pop() if self._idle else None
        if point is None:
            point = self._factory()
        try:
            return point.call(procedure, *params, **named)
        finally:
            # Released here, in the thread, so a caller that gave up cannot hand a busy point on.
            with self._lock:
                self._idle.append(point)

    async def call(self, procedure: str, params: Sequence[Any], named: Mapping[str, Any]) -> Any:
        """Call the upstream's `procedure`; its result, or its `Fault` / `TransportError`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, procedure, params, named)

    def close(self) -> None:
        """Stop taking calls, wait for those under way, and close every connection."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            idle, self._idle = self._idle, []
        for point in idle:
            point.close()
