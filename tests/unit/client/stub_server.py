"""A tiny HTTP/1.1 server on 127.0.0.1:0 in a thread, answering with a function the test sets.

It counts TCP connections and keeps every request, so tests can see connection reuse, headers and
bodies. `drop_idle` makes it close each connection after its reply without saying so, as a server
whose keep-alive timeout ran out does.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import METHOD_NOT_FOUND
from bridge.protocols.jsonrpc import decode_message, encode_replies
from bridge.protocols.xmlrpc import decode_call, encode_outcome
from bridge.settings import Limits

LIMITS = Limits()


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """What the server sends back."""

    status: int = 200
    content_type: str = "text/xml"
    body: bytes = b""


Responder = Callable[[Received], Answer]


@dataclass
class StubServer:
    """The running server: its URL, what it received, and how it answers."""

    url: str
    respond: Responder
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    drop_idle: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub: StubServer

    def setup(self) -> None:
        super().setup()
        self.stub.connections += 1

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        received = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
        self.stub.requests.append(received)
        answer = self.stub.respond(received)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)
        if self.stub.drop_idle:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@contextlib.contextmanager
def running_stub() -> Iterator[StubServer]:
    """A running stub server that answers 500 until the test sets `respond`."""
    stub = StubServer(url="", respond=lambda _: Answer(500, "text/plain", b"no responder set"))
    handler = type("Handler", (_Handler,), {"stub": stub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def hang_up_server() -> Iterator[tuple[int, list[int]]]:
    """A server that reads each request and closes the connection without a reply.

    Yields its port and a list holding the number of connections accepted so far.
    """
    accepted = [0]
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted[0] += 1
            with connection:
                connection.settimeout(5)
                connection.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _run(functions: dict[str, Callable[..., Any]], call: Call) -> Outcome:
    function = functions.get(call.procedure)
    if function is None:
        return Fault(METHOD_NOT_FOUND, f"no procedure {call.procedure}")
    try:
        return Success(function(*call.params, **dict(call.named or {})))
    except Fault as raised:
        return raised


def xmlrpc_responder(functions: dict[str, Callable[..., Any]]) -> Responder:
    """Answers XML-RPC calls with `functions`, through the bridge's codec (a raised Fault is a fault)."""

    def respond(request: Received) -> Answer:
        return Answer(body=encode_outcome(_run(functions, decode_call(request.body, LIMITS))))

    return respond


def jsonrpc_responder(functions: dict[str, Callable[..., Any]]) -> Responder:
    """Answers JSON-RPC requests and batches with `functions`, through the bridge's codec."""

    def respond(request: Received) -> Answer:
        message = decode_message(request.body, LIMITS)
        outcomes = [None if r.call is None else _run(functions, r.call) for r in message.requests]
        body = encode_replies(message, outcomes)
        if body is None:
            return Answer(204, "application/json", b"")
        return Answer(200, "application/json", body)

    return respond
