"""X-Forwarded-For believed only from trusted proxies, and only as far as the first untrusted hop."""

from __future__ import annotations

from bridge.forwarded import client_address

PROXIES = ("10.0.0.0/8", "2001:db8::/32")


def test_no_trusted_proxies_means_the_peer() -> None:
    """Without `trusted_proxies` the header is ignored: anyone can write it."""
    assert client_address("10.1.2.3", ["203.0.113.7"], ()) == "10.1.2.3"


def test_an_untrusted_peer_is_the_client_whatever_it_claims() -> None:
    """A direct client cannot pose as another address."""
    assert client_address("198.51.100.1", ["203.0.113.7"], PROXIES) == "198.51.100.1"


def test_the_right_most_untrusted_hop_is_the_client() -> None:
    """Hops a trusted proxy appended are skipped; what the client itself wrote (left) is not believed."""
    headers = ["1.1.1.1, 203.0.113.7", "10.0.0.5"]
    assert client_address("10.9.9.9", headers, PROXIES) == "203.0.113.7"


def test_ipv6_and_no_header() -> None:
    """IPv6 proxies work; a trusted proxy without the header leaves the peer."""
    assert client_address("2001:db8::1", ["203.0.113.8"], PROXIES) == "203.0.113.8"
    assert client_address("10.0.0.1", [], PROXIES) == "10.0.0.1"
