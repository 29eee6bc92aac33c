"""Who sent an HTTP request when it came through proxies: `X-Forwarded-For` read against `trusted_proxies`.

Pure; imports only the standard library. Shared by the frontend (peer in logs and the call log)
and the admin site (the login throttle's key).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of the `trusted_proxies` setting (validated when settings load)."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: Iterable[str], trusted_proxies: tuple[str, ...]) -> str:
    """The address that sent the request: the peer, or, when the peer is a trusted proxy, the
    right-most `X-Forwarded-For` entry that is not itself a trusted proxy.

    Entries left of the first untrusted one could be written by anyone, so they are never believed.
    """
    networks = trusted_networks(trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
