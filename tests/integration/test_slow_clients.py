"""Slow and vanishing HTTP clients against a real frontend: cut off in bounded time, logged quietly."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator

import pytest

from bridge.testing import Deployment, deployment, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, xmlrpc_call

# Short limits so each test ends quickly; the socket timeout is only the test's own bound.
LIMITS = {"RPCBRIDGE_HTTP_HEADER_TIMEOUT": "1", "RPCBRIDGE_HTTP_BODY_TIMEOUT": "1"}
TEST_BOUND_SECONDS = 20.0
BODY = b"<?xml version='1.0'?><methodCall><methodName>echo</methodName><params></params></methodCall>"


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment([EXAMPLE_WORKER], env=LIMITS, scratch=tmp_path_factory.mktemp("slow")) as running:
        yield running


def connect(bridge: Deployment) -> socket.socket:
    host, port = bridge.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=TEST_BOUND_SECONDS)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def headers(length: int) -> bytes:
    return (
        f"POST /RPC2 HTTP/1.1\r\nHost: test\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_half_a_header_is_cut_off(bridge: Deployment) -> None:
    """A client that never finishes its headers (slowloris) has its connection closed, unanswered."""
    with connect(bridge) as sock:
        sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        assert read_until_closed(sock) == b""
    assert xmlrpc_call(bridge.url + "/RPC2", "echo", "still serving") == "still serving"


def test_idle_kept_alive_connection_is_cut_off_before_its_next_request(bridge: Deployment) -> None:
    """After one answered request, a connection that starts no whole next request is closed too."""
    with connect(bridge) as sock:
        sock.sendall(headers(len(BODY)) + BODY)
        sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: te")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1") == 1


def test_trickled_body_gets_408_and_is_cut_off(bridge: Deployment) -> None:
    """A body that never arrives whole is answered 408 and its connection closed."""
    with connect(bridge) as sock:
        sock.sendall(headers(len(BODY)) + BODY[:10])
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    wait_until(lambda: "http_status=408 " in bridge.frontend.log())


def test_client_hanging_up_mid_body_is_one_info_line_and_no_fault(bridge: Deployment) -> None:
    """A client that closes mid-body: one INFO line with 499, no ERROR or traceback, no faulted call."""
    with connect(bridge) as sock:
        sock.sendall(headers(len(BODY)) + BODY[:10])
        sock.shutdown(socket.SHUT_RDWR)
    wait_until(lambda: "outcome=client_closed" in bridge.frontend.log())
    log = bridge.frontend.log()
    [line] = [line for line in log.splitlines() if "outcome=client_closed" in line]
    assert " INFO " in f" {line} " and " http_status=499 " in line
    assert "ERROR" not in log and "Traceback" not in log
    with urllib.request.urlopen(bridge.url + "/metrics", timeout=TEST_BOUND_SECONDS) as reply:
        metrics = reply.read().decode()
    assert 'outcome="fault"' not in metrics
