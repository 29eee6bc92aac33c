"""Fixtures for the client kit: stub servers on 127.0.0.1 with kernel-chosen ports, and a record sink."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bridge.store.records import CallRecord
from tests.unit.client.stub_server import StubServer, hang_up_server, running_stub


class ListSink:
    """Keeps the outgoing-call records a point sends, in order."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def record(self, record: CallRecord) -> None:
        self.records.append(record)


@pytest.fixture
def sink() -> ListSink:
    """A record sink that keeps every record."""
    return ListSink()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A stub HTTP/1.1 server; the test sets how it answers."""
    with running_stub() as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never answers a request."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound and released, so connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def hang_up() -> Iterator[tuple[int, list[int]]]:
    """A server that closes every connection without answering; its port and connection count."""
    with hang_up_server() as running:
        yield running
