"""Worker addresses as configured (`host:port`, `name:port`, `dns:///name:port`) turned into the
concrete addresses the sidecar connects to, re-resolved at every catalogue refresh.

Standard library only (asyncio's getaddrinfo). Each address found becomes a connection of its
own with its own catalogue entry, so routing stays exact per API version (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from bridge.errors import ConfigError

log = logging.getLogger("rpcbridge.sidecar")

DNS_SCHEME: Final = "dns:///"

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Every IP address a host name resolves to, for a port (injectable for tests)."""


@dataclass(frozen=True, slots=True)
class WorkerEntry:
    """One configured worker: a fixed address, or a name resolved to every address it has."""

    host: str
    port: int

    @property
    def named(self) -> bool:
        """True when the host is a name to resolve rather than an IP address."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return True
        return False


def join_address(host: str, port: int) -> str:
    """`host:port`, with brackets around an IPv6 address as gRPC targets want."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_entry(text: str) -> WorkerEntry:
    """Parse one `workers` entry; ConfigError when it has no port."""
    rest = text.removeprefix(DNS_SCHEME)
    host, colon, port = rest.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"worker address {text!r}: give HOST:PORT or dns:///NAME:PORT")
    return WorkerEntry(host, int(port))


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA records), via the event loop's getaddrinfo."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class WorkerDiscovery:
    """The concrete worker addresses of the configured entries, as of the last resolution.

    A name that fails to resolve keeps the addresses it had, so a DNS hiccup does not empty routing.
    """

    def __init__(self, entries: Iterable[str], resolver: Resolver = resolve_host) -> None:
        self._entries = [parse_entry(text) for text in entries]
        self._resolver = resolver
        self._found: dict[WorkerEntry, list[str]] = {}

    async def addresses(self) -> dict[str, str]:
        """Resolve every named entry again: each concrete address, in order, with the name it was
        found under ("" for an address given as such), which a TLS certificate must carry."""
        found: dict[str, str] = {}
        for entry in self._entries:
            for address in await self._resolve(entry):
                found.setdefault(address, entry.host if entry.named else "")
        return found

    async def _resolve(self, entry: WorkerEntry) -> list[str]:
        if not entry.named:
            return [join_address(entry.host, entry.port)]
        try:
            hosts = await self._resolver(entry.host, entry.port)
        except OSError as exc:
            log.warning("cannot resolve worker name %s: %s; keeping what it had", entry.host, exc)
            return self._found.get(entry, [])
        found = [join_address(host, entry.port) for host in hosts]
        if found != self._found.get(entry):
            log.info(
                "worker name %s:%d resolves to %s", entry.host, entry.port, ", ".join(found) or "nothing"
            )
        self._found[entry] = found
        return found
