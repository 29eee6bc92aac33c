"""Worker entries parsed and names re-resolved into concrete addresses, with a fake resolver."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bridge.errors import ConfigError
from bridge.sidecar.worker_discovery import WorkerDiscovery, parse_entry


class FakeDns:
    """A resolver whose answers the test changes; raises OSError when told the name is gone."""

    def __init__(self, **names: list[str]) -> None:
        self.names = names
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        if host not in self.names:
            raise OSError(f"cannot resolve {host}")
        return self.names[host]


@pytest.mark.parametrize(
    ("text", "host", "port", "named"),
    [
        ("127.0.0.1:50051", "127.0.0.1", 50051, False),
        ("[::1]:7", "::1", 7, False),
        ("workers:50051", "workers", 50051, True),
        ("dns:///workers.ns.svc:9000", "workers.ns.svc", 9000, True),
    ],
)
def test_entries_parse(text: str, host: str, port: int, named: bool) -> None:
    """IP literals are fixed addresses; names (with or without dns:///) are resolved."""
    entry = parse_entry(text)
    assert (entry.host, entry.port, entry.named) == (host, port, named)


@pytest.mark.parametrize("text", ["workers", "dns:///workers", "host:port", ":50051", "h:70000"])
def test_entries_without_a_port_are_refused(text: str) -> None:
    """A worker entry without a usable port is a configuration error, not a silent skip."""
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_entry(text)


async def test_a_name_is_resolved_again_each_time() -> None:
    """Every address of a name becomes a worker; a new address appears, a gone one disappears."""
    dns = FakeDns(workers=["10.0.0.1"])
    discovery = WorkerDiscovery(["dns:///workers:50051", "10.0.0.9:1"], dns)
    assert await discovery.addresses() == {"10.0.0.1:50051": "workers", "10.0.0.9:1": ""}
    dns.names["workers"] = ["10.0.0.1", "10.0.0.2", "fd00::3"]
    assert list(await discovery.addresses()) == [
        "10.0.0.1:50051",
        "10.0.0.2:50051",
        "[fd00::3]:50051",
        "10.0.0.9:1",
    ]
    dns.names["workers"] = ["10.0.0.2"]
    assert list(await discovery.addresses()) == ["10.0.0.2:50051", "10.0.0.9:1"]
    assert dns.asked == [("workers", 50051)] * 3


async def test_a_failed_lookup_keeps_what_the_name_had() -> None:
    """A DNS failure does not empty routing: the last addresses found stay."""
    dns = FakeDns(workers=["10.0.0.1"])
    discovery = WorkerDiscovery(["workers:50051"], dns)
    assert list(await discovery.addresses()) == ["10.0.0.1:50051"]
    del dns.names["workers"]
    assert list(await discovery.addresses()) == ["10.0.0.1:50051"]
