"""Where a webhook may be delivered: URL checks at registration, DNS checks at every attempt (SSRF).

Owns the forbidden networks and the address parsing that getaddrinfo would do; imports no HTTP
client and no store. docs/events.md, "Where webhooks may go", is the user's view of the same rules.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias
from urllib.parse import urlsplit

from bridge.errors import BridgeError, ConfigError

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver: TypeAlias = Callable[[str, int], Awaitable[Sequence[tuple[Any, ...]]]]

MAX_URL_LENGTH: Final = 2048
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}

# Checked in order; the first network holding an address names the reason it is refused.
_FORBIDDEN_V4: Final = tuple(
    (ipaddress.IPv4Network(cidr), reason)
    for cidr, reason in (
        ("0.0.0.0/8", "'this network' (RFC 791), including the unspecified address"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local, where cloud metadata services live (RFC 3927)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation (RFC 5737)"),
        ("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation (RFC 5737)"),
        ("203.0.113.0/24", "documentation (RFC 5737)"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved (RFC 1112)"),
    )
)
_FORBIDDEN_V6: Final = tuple(
    (ipaddress.IPv6Network(cidr), reason)
    for cidr, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
        ("100::/64", "discard-only (RFC 6666)"),
        ("2001::/23", "IETF protocol assignments, Teredo included (RFC 2928)"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("3fff::/20", "documentation (RFC 9637)"),
        ("5f00::/16", "SRv6 segment identifiers (RFC 9602)"),
        ("fc00::/7", "unique local, IPv6's private (RFC 4193)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (RFC 3879)"),
        ("ff00::/8", "multicast"),
    )
)
# IPv6 forms that carry an IPv4 address: the embedded address decides, with its own reasons.
_MAPPED: Final = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED: Final = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")


class TargetError(BridgeError):
    """A webhook target that may not or cannot be reached; `reason` says why, for the delivery log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetRefused(TargetError):
    """The URL, or an address it resolves to, is outside what the webhook policy allows."""


class TargetUnresolved(TargetError):
    """The target's host name did not resolve to any address."""


@dataclass(frozen=True)
class WebhookPolicy:
    """What listeners may target: `https` always, `http` when allowed; networks let through (CIDRs)."""

    allow_http: bool = False
    allow_networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, allow_http: bool, allow_networks: Iterable[str]) -> WebhookPolicy:
        """Build from settings (`webhook_allow_http`, `webhook_allow_networks`); ConfigError if bad."""
        networks = []
        for cidr in allow_networks:
            try:
                networks.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError as exc:
                raise ConfigError(f"webhook_allow_networks: {cidr!r} is not a CIDR network") from exc
        return cls(allow_http=allow_http, allow_networks=tuple(networks))

    def allows(self, address: Address) -> bool:
        """True when `address` lies in one of the allowed networks."""
        return any(address in network for network in self.allow_networks)


@dataclass(frozen=True)
class WebhookTarget:
    """A checked listener URL, split into what a connection needs."""

    url: str
    scheme: str
    host: str  # lower-case ASCII name, or an address without brackets
    port: int
    request_target: str  # path and query, as sent on the request line
    literal: Address | None  # the address, when the URL names one instead of a host name

    @property
    def tls(self) -> bool:
        """True for `https` targets."""
        return self.scheme == "https"


def forbidden_reason(address: Address, policy: WebhookPolicy) -> str | None:
    """Why `address` may not be a webhook target, or None when it may."""
    if policy.allows(address):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return _network_reason(address, _FORBIDDEN_V4)
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = forbidden_reason(embedded, policy)
        return None if inner is None else f"a form of {embedded}, which is {inner}"
    return _network_reason(address, _FORBIDDEN_V6)


def _network_reason(address: Address, table: Sequence[tuple[Network, str]]) -> str | None:
    for network, reason in table:
        if address in network:
            return f"{reason} ({network})"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, -translated, -compatible, NAT64 or 6to4 address."""
    number = int(address)
    if address in _MAPPED or address in _TRANSLATED or address in _NAT64:
        return ipaddress.IPv4Address(number & 0xFFFFFFFF)
    if address in _COMPATIBLE and number > 1:  # :: and ::1 are themselves, not IPv4 in disguise
        return ipaddress.IPv4Address(number & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((number >> 80) & 0xFFFFFFFF)
    return None


def check_listener_url(url: str, policy: WebhookPolicy) -> WebhookTarget:
    """Check a listener URL at registration; raises `TargetRefused` saying what is wrong.

    Host names pass here and are checked after resolution at each attempt (`resolve_checked`);
    an address literal, in any spelling getaddrinfo accepts, is checked now.
    """
    if not isinstance(url, str) or not url:
        raise TargetRefused("a webhook URL is a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"a webhook URL has at most {MAX_URL_LENGTH} characters")
    if any(char <= " " or char in "\x7f\\" for char in url):
        raise TargetRefused("a webhook URL holds no spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or (scheme == "http" and not policy.allow_http):
        allowed = "https or http" if policy.allow_http else "https (http needs webhook_allow_http)"
        raise TargetRefused(f"a webhook URL's scheme is {allowed}, not {parts.scheme or 'missing'!r}")
    if "@" in parts.netloc:
        raise TargetRefused("a webhook URL carries no user name or password")
    if port == 0:
        raise TargetRefused("port 0 cannot be connected to")
    host = parts.hostname or ""
    if not host:
        raise TargetRefused("a webhook URL names a host")
    literal = _address_literal(host, bracketed="[" in parts.netloc)
    if literal is not None:
        reason = forbidden_reason(literal, policy)
        if reason is not None:
            raise TargetRefused(f"{literal} is {reason}; webhook_allow_networks can allow it")
        host = str(literal)
    else:
        host = _host_name(host)
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(
        url=url,
        scheme=scheme,
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        request_target=request_target,
        literal=literal,
    )


def _address_literal(host: str, *, bracketed: bool) -> Address | None:
    """The address a host spells, in any form the C resolver accepts, or None for a host name."""
    if bracketed:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise TargetRefused(f"[{host}] is not an IPv6 address") from exc
    name = host.removesuffix(".")
    labels = name.split(".")
    # A host name's last label is never all-numeric (RFC 3696 section 2), so a host that ends in
    # one is an address in inet_aton's spelling (`127.1`, `0x7f000001`, `0177.0.0.1`) or refused.
    if not labels[-1] or not _numeric_label(labels[-1]):
        return None
    address = parse_inet_aton(name)
    if address is None:
        raise TargetRefused(f"{host!r} is neither a host name nor an IPv4 address")
    return address


def _numeric_label(label: str) -> bool:
    lowered = label.lower()
    if lowered.startswith("0x"):
        return all(char in "0123456789abcdef" for char in lowered[2:])
    return lowered.isdigit()


def parse_inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in inet_aton(3)'s forms: 1 to 4 parts, each decimal, 0x-hex or 0-octal."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _aton_part(part)
        if number is None:
            return None
        numbers.append(number)
    # The last part fills the bytes the others leave: a.b.c.d, a.b.16bits, a.24bits, 32bits.
    *leading, last = numbers
    if any(number > 0xFF for number in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _aton_part(part: str) -> int | None:
    if not part.isascii():
        return None
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:], 16)
        if lowered.startswith("0") and len(lowered) > 1:
            return int(lowered[1:], 8)
        return int(lowered, 10) if lowered.isdigit() else None
    except ValueError:
        return None


def _host_name(host: str) -> str:
    """The ASCII (IDNA) form of a host name, refused when it is not one."""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise TargetRefused(f"{host!r} is not a valid host name") from exc
    labels = ascii_host.removesuffix(".").split(".")
    if not all(label and all(char.isalnum() or char in "-_" for char in label) for label in labels):
        raise TargetRefused(f"{host!r} is not a valid host name")
    return ascii_host.lower()


async def resolve_checked(
    target: WebhookTarget, policy: WebhookPolicy, *, resolver: Resolver | None = None
) -> list[Address]:
    """Resolve the target now and return the addresses to connect to, all of them allowed.

    Every address the name resolves to must pass: a name with one forbidden address is refused
    whole, since DNS answers rotate and a rebinding attacker needs only one of them.
    Raises `TargetRefused` or `TargetUnresolved`, whose `reason` goes into the delivery log.
    """
    if target.literal is not None:
        reason = forbidden_reason(target.literal, policy)
        if reason is not None:
            raise TargetRefused(f"{target.literal} is {reason}")
        return [target.literal]
    lookup = resolver or _getaddrinfo
    try:
        entries = await lookup(target.host, target.port)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolved(f"{target.host} did not resolve: {exc}") from exc
    addresses: list[Address] = []
    for entry in entries:
        address = ipaddress.ip_address(str(entry[4][0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetUnresolved(f"{target.host} resolved to no address")
    for address in addresses:
        reason = forbidden_reason(address, policy)
        if reason is not None:
            raise TargetRefused(f"{target.host} resolves to {address}, which is {reason}")
    return addresses


async def _getaddrinfo(host: str, port: int) -> Sequence[tuple[Any, ...]]:
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
