"""SSRF defence: listener URLs refused at registration, resolved addresses refused at each attempt."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from bridge.errors import ConfigError
from bridge.sidecar.webhook_targets import (
    TargetRefused,
    TargetUnresolved,
    WebhookPolicy,
    check_listener_url,
    forbidden_reason,
    parse_inet_aton,
    resolve_checked,
)

STRICT = WebhookPolicy()
LOOPBACK_ALLOWED = WebhookPolicy.from_settings(allow_http=True, allow_networks=["127.0.0.0/8", "::1/128"])

HOSTILE_URLS = [
    # address literals in forbidden networks, in every spelling the C resolver accepts
    ("https://127.0.0.1/", "loopback"),
    ("https://127.255.255.254:8443/hook", "loopback"),
    ("https://0x7f000001/", "loopback"),
    ("https://2130706433/", "loopback"),
    ("https://0177.0.0.1/", "loopback"),
    ("https://127.1/", "loopback"),
    ("https://0x7f.1/", "loopback"),
    ("https://127.0.0.1./", "loopback"),
    ("https://[::1]/", "loopback"),
    ("https://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("https://0.0.0.0/", "'this network'"),
    ("https://0/", "'this network'"),
    ("https://[::]/", "unspecified"),
    ("https://10.1.2.3/", "private"),
    ("https://172.16.0.1/", "private"),
    ("https://172.31.255.255/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://[fc00::1]/", "unique local"),
    ("https://[fd12:3456::1]/", "unique local"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://0xa9fea9fe/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fe80::1%25eth0]/", "link-local"),
    ("https://[fec0::1]/", "site-local"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://224.0.0.1/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "broadcast"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://192.0.2.1/", "documentation"),
    ("https://198.51.100.7/", "documentation"),
    ("https://203.0.113.9/", "documentation"),
    ("https://[2001:db8::1]/", "documentation"),
    # IPv6 forms that carry a forbidden IPv4 address
    ("https://[::ffff:127.0.0.1]/", "a form of 127.0.0.1, which is loopback"),
    ("https://[::ffff:7f00:1]/", "a form of 127.0.0.1, which is loopback"),
    ("https://[::ffff:169.254.169.254]/", "a form of 169.254.169.254, which is link-local"),
    ("https://[::ffff:0:10.0.0.1]/", "a form of 10.0.0.1, which is private"),
    ("https://[::127.0.0.1]/", "a form of 127.0.0.1, which is loopback"),
    ("https://[64:ff9b::127.0.0.1]/", "a form of 127.0.0.1, which is loopback"),
    ("https://[64:ff9b::a9fe:a9fe]/", "a form of 169.254.169.254"),
    ("https://[64:ff9b:1::1]/", "local-use NAT64"),
    ("https://[2002:7f00:1::]/", "a form of 127.0.0.1, which is loopback"),
    ("https://[2002:c0a8:101::1]/", "a form of 192.168.1.1, which is private"),
    ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    # not an address, not a host name
    ("https://1.2.3.4.5/", "neither a host name nor an IPv4 address"),
    ("https://256.1.1.1/", "neither a host name nor an IPv4 address"),
    ("https://0x/", "neither a host name nor an IPv4 address"),
    ("https://08.0.0.1/", "neither a host name nor an IPv4 address"),
    ("https://[not-v6]/", "not a valid URL"),
    ("https://exa mple.com/", "no spaces"),
    ("https://example.com\\@evil/", "backslashes"),
    ("https://exa\x00mple.com/", "control characters"),
    ("https://ex!ample.com/", "not a valid host name"),
    # scheme, credentials, port, host
    ("http://example.com/", "http needs webhook_allow_http"),
    ("ftp://example.com/", "not 'ftp'"),
    ("file:///etc/passwd", "not 'file'"),
    ("//example.com/", "not 'missing'"),
    ("example.com/hook", "not 'missing'"),
    ("https://user:pw@example.com/", "no user name or password"),
    ("https://user@example.com/", "no user name or password"),
    ("https://example.com:0/", "port 0"),
    ("https://example.com:65536/", "not a valid URL"),
    ("https://example.com:http/", "not a valid URL"),
    ("https:///hook", "names a host"),
    ("", "non-empty"),
    ("https://example.com/" + "a" * 2100, "at most 2048 characters"),
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE_URLS)
def test_hostile_urls_are_refused_at_registration(url: str, reason: str) -> None:
    """Each hostile URL is refused with a reason that says what is wrong with it."""
    with pytest.raises(TargetRefused) as refused:
        check_listener_url(url, STRICT)
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("url", "host", "port", "request_target"),
    [
        ("https://example.com/hook", "example.com", 443, "/hook"),
        ("https://Example.COM:8443", "example.com", 8443, "/"),
        ("https://example.com/h?a=1&b=2#frag", "example.com", 443, "/h?a=1&b=2"),
        ("HTTPS://bücher.example/", "xn--bcher-kva.example", 443, "/"),
        ("https://8.8.8.8/", "8.8.8.8", 443, "/"),
        ("https://[2606:4700::1111]:444/x", "2606:4700::1111", 444, "/x"),
        ("https://[::ffff:8.8.8.8]/", "::ffff:808:808", 443, "/"),
        ("https://[2002:0808:0808::1]/", "2002:808:808::1", 443, "/"),
        ("https://1.example/", "1.example", 443, "/"),
    ],
)
def test_acceptable_urls_are_split_for_the_connection(
    url: str, host: str, port: int, request_target: str
) -> None:
    """A public https URL passes, lower-cased and IDNA-encoded, with its port and request target."""
    target = check_listener_url(url, STRICT)
    assert (target.host, target.port, target.request_target, target.url) == (host, port, request_target, url)
    assert target.tls


def test_allow_list_lets_loopback_and_http_through() -> None:
    """With 127.0.0.0/8 allowed and http enabled, local receivers are accepted in any spelling."""
    for url in ("http://127.0.0.1:8080/h", "http://0x7f000001:8080/h", "https://[::ffff:127.0.0.1]/"):
        target = check_listener_url(url, LOOPBACK_ALLOWED)
        assert target.literal is not None
    assert check_listener_url("http://127.0.0.1:8080/h", LOOPBACK_ALLOWED).port == 8080
    with pytest.raises(TargetRefused, match="private"):
        check_listener_url("http://10.0.0.1/", LOOPBACK_ALLOWED)


def test_policy_refuses_a_bad_cidr_at_start_up() -> None:
    """A malformed webhook_allow_networks entry is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=r"'127\.0\.0\.0/33'"):
        WebhookPolicy.from_settings(allow_http=False, allow_networks=["127.0.0.0/33"])


@pytest.mark.parametrize(
    "text",
    [
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "1.2.3",
        "1.65536",
        "0",
        "00",
        "0x7f.0.0.1",
        "8.8.8.8",
        "0x",
        "08",
        "1.2.3.256",
        "1.2.3.4.5",
        "4294967296",
        "1..2",
        "",
        "0xfffffffff",
        "1.0x1000000",
    ],
)
def test_inet_aton_parsing_agrees_with_the_c_library(text: str) -> None:
    """parse_inet_aton accepts exactly what socket.inet_aton (the resolver's parser) accepts."""
    try:
        expected: Any = ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        expected = None
    assert parse_inet_aton(text) == expected


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),
        ("2002:808:808::", True),
        ("127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_forbidden_reason(address: str, allowed: bool) -> None:
    """Public addresses, and IPv6 forms of public IPv4 addresses, have no reason to be refused."""
    assert (forbidden_reason(ipaddress.ip_address(address), STRICT) is None) is allowed


def resolving_to(*addresses: str) -> Any:
    """A resolver answering getaddrinfo-style entries for the given addresses."""

    async def resolve(host: str, port: int) -> Sequence[tuple[Any, ...]]:
        family = socket.AF_INET6
        return [
            (socket.AF_INET if "." in a and ":" not in a else family, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return resolve


async def test_resolution_returns_every_allowed_address_once() -> None:
    """A name resolving to public addresses gives them all, deduplicated, in resolver order."""
    target = check_listener_url("https://hooks.example/", STRICT)
    resolver = resolving_to("203.0.114.1", "2606:4700::1111", "203.0.114.1")
    assert await resolve_checked(target, STRICT, resolver=resolver) == [
        ipaddress.ip_address("203.0.114.1"),
        ipaddress.ip_address("2606:4700::1111"),
    ]


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("8.8.8.8", "10.0.0.1"), ("::ffff:169.254.169.254",), ("fe80::1%eth0",)],
)
async def test_resolution_refuses_a_name_with_any_forbidden_address(addresses: tuple[str, ...]) -> None:
    """One forbidden address among the answers refuses the attempt, naming the host and address."""
    target = check_listener_url("https://rebind.example/", STRICT)
    with pytest.raises(TargetRefused, match=r"rebind\.example resolves to"):
        await resolve_checked(target, STRICT, resolver=resolving_to(*addresses))


async def test_localhost_is_refused_unless_allowed() -> None:
    """The real resolver: localhost resolves to loopback, refused by default, allowed by the list."""
    target = check_listener_url("https://localhost:8443/", STRICT)
    with pytest.raises(TargetRefused, match="loopback"):
        await resolve_checked(target, STRICT)
    addresses = await resolve_checked(target, LOOPBACK_ALLOWED)
    assert addresses and all(address.is_loopback for address in addresses)


async def test_unresolvable_names_are_reported() -> None:
    """A name that does not resolve is TargetUnresolved with the resolver's words."""

    async def no_such_name(host: str, port: int) -> Sequence[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    target = check_listener_url("https://no-such-host.invalid/", STRICT)
    with pytest.raises(TargetUnresolved, match=r"no-such-host\.invalid did not resolve.*not known"):
        await resolve_checked(target, STRICT, resolver=no_such_name)
    with pytest.raises(TargetUnresolved, match="resolved to no address"):
        await resolve_checked(target, STRICT, resolver=resolving_to())


async def test_literal_targets_are_checked_again_at_each_attempt() -> None:
    """A literal accepted under one policy is refused when the policy no longer allows it."""
    target = check_listener_url("http://127.0.0.1:9/", LOOPBACK_ALLOWED)
    assert await resolve_checked(target, LOOPBACK_ALLOWED) == [ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(TargetRefused, match="loopback"):
        await resolve_checked(target, STRICT)
