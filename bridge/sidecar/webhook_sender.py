"""One webhook delivery attempt over HTTP(S) to a checked address, and the delay before the next.

Uses the standard library's http.client in a thread, pinned to the address `resolve_checked`
allowed (no second lookup between check and connect); imports no aiohttp and no store.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import http.client
import math
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Final, Protocol

from bridge.sidecar.webhook_targets import (
    Address,
    Resolver,
    TargetError,
    WebhookPolicy,
    WebhookTarget,
    resolve_checked,
)

EXCERPT_BYTES: Final = 1024
# Seconds after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (DESIGN.md, Events).
DEFAULT_RETRY_SCHEDULE: Final = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
DEFAULT_RETRY_AFTER_MAX: Final = 3600.0
JITTER: Final = 0.2


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt got: an HTTP status, or an error saying why there was none.

    `retry_after` is the receiver's Retry-After in seconds (either form), `excerpt` the first KiB of
    the response body as text, `duration` the attempt's seconds, name resolution included.
    """

    status: int | None
    error: str | None
    retry_after: float | None
    excerpt: str
    duration: float

    @property
    def succeeded(self) -> bool:
        """True for a 2xx status: any other status, a redirect included, is a failed attempt."""
        return self.status is not None and 200 <= self.status < 300


class Jitter(Protocol):
    """What `next_delay` needs of a random source; `random.Random` has it."""

    def uniform(self, a: float, b: float) -> float:
        """A number between `a` and `b`."""
        ...


def next_delay(
    attempt_index: int,
    schedule: Sequence[float],
    retry_after: float | None,
    retry_after_max: float,
    rng: Jitter,
) -> float | None:
    """Seconds to wait after failed attempt number `attempt_index` (0 = the first), or None: no more.

    The scheduled delay gets ±20 % jitter; a Retry-After is honoured up to `retry_after_max`, so
    the wait is max(scheduled, min(Retry-After, retry_after_max)): never sooner than the receiver
    asked within the cap, and never sooner than the schedule.
    """
    if attempt_index < 0 or attempt_index >= len(schedule):
        return None
    delay = schedule[attempt_index] * rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, retry_after_max))
    return delay


def parse_retry_after(value: str | None, now: datetime.datetime) -> float | None:
    """Seconds from `now` that a Retry-After header asks for (RFC 9110 section 10.2.3), or None."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT; `-0000` parses as naive
        when = when.replace(tzinfo=datetime.UTC)
    seconds = (when - now).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


async def send_attempt(
    target: WebhookTarget,
    policy: WebhookPolicy,
    body: bytes,
    headers: Mapping[str, str],
    *,
    time_limit: float,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
    executor: Executor | None = None,
) -> AttemptResult:
    """POST `body` to the target once; never raises for the receiver's sake, only reports.

    The name is resolved and checked now (`resolve_checked`), and the connection is made to a
    checked address while the Host header, TLS SNI and certificate check use the URL's host.
    `time_limit` (seconds, `webhook_timeout`) bounds the whole attempt: resolution, connect, TLS,
    sending and the response head. Redirects are never followed. The blocking exchange runs in
    `executor` (the loop's default when None), which therefore bounds how many attempts run at once.
    """
    started = time.monotonic()
    deadline = started + time_limit

    def result(
        status: int | None = None,
        error: str | None = None,
        retry_after: float | None = None,
        text: str = "",
    ) -> AttemptResult:
        return AttemptResult(status, error, retry_after, text, time.monotonic() - started)

    try:
        addresses = await asyncio.wait_for(resolve_checked(target, policy, resolver=resolver), time_limit)
    except TargetError as exc:
        return result(error=exc.reason)
    except TimeoutError:
        return result(error=f"timed out after {time_limit:g} s resolving {target.host}")
    exchange = _Exchange(target, addresses, body, headers, deadline, ssl_context)
    running = asyncio.get_running_loop().run_in_executor(executor, exchange.run)
    try:
        done, _ = await asyncio.wait({running}, timeout=max(0.0, deadline - time.monotonic()))
    except asyncio.CancelledError:
        exchange.abort()
        # The thread ends with the aborted socket's error, which nobody awaits any more: taken
        # here, not reported as "Future exception was never retrieved" (a sidecar stopping mid-attempt).
        running.add_done_callback(_discard_outcome)
        raise
    if not done:
        exchange.abort()  # unblocks the thread's socket call, so it ends now, not at its timeout
    failure: BaseException | None = None
    try:
        await running
    except Exception as exc:
        failure = exc
    if exchange.status is None:
        timed_out = not done or isinstance(failure, TimeoutError)
        return result(
            error=f"timed out after {time_limit:g} s" if timed_out else _describe(failure, exchange)
        )
    return result(
        exchange.status,
        retry_after=parse_retry_after(exchange.retry_after, datetime.datetime.now(datetime.UTC)),
        text=exchange.excerpt.decode("utf-8", "replace"),
    )


def _discard_outcome(future: asyncio.Future[None]) -> None:
    """Take an abandoned attempt's outcome, so asyncio does not report its exception as lost."""
    if not future.cancelled():
        future.exception()


def _describe(failure: BaseException | None, exchange: _Exchange) -> str:
    """The delivery log's words for a failure before any response; most specific first."""
    if isinstance(failure, ssl.SSLCertVerificationError):
        return f"TLS certificate refused for {exchange.host}: {failure.verify_message}"
    if isinstance(failure, ssl.SSLError):
        return f"TLS failed: {failure.reason or failure}"
    if isinstance(failure, ConnectionRefusedError):
        return f"connection refused by {exchange.tried}"
    if isinstance(failure, http.client.RemoteDisconnected):
        return "the receiver closed the connection without a response"
    if isinstance(failure, http.client.HTTPException):
        return f"not an HTTP response: {type(failure).__name__}"
    if isinstance(failure, OSError):
        return f"connection to {exchange.tried} failed: {failure.strerror or failure}"
    return f"attempt failed: {failure!r}"


class _Exchange:
    """The blocking half of an attempt, run in a thread; `abort` may be called from the loop."""

    def __init__(
        self,
        target: WebhookTarget,
        addresses: Sequence[Address],
        body: bytes,
        headers: Mapping[str, str],
        deadline: float,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.host = target.host
        self._target = target
        self._addresses = addresses
        self._body = body
        self._headers = dict(headers)
        self._deadline = deadline
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._aborted = False
        self.tried = ""
        self.status: int | None = None
        self.retry_after: str | None = None
        self.excerpt = b""

    def run(self) -> None:
        """Connect, send, read the status, headers and a KiB of body, close."""
        connection = _PinnedConnection(self._target.host, self._target.port, self)
        try:
            if self._target.tls:
                connection.sock = self._secure(connection.sock)
                connection.sock.do_handshake()
            connection.request("POST", self._target.request_target, body=self._body, headers=self._headers)
            response = connection.getresponse()
            with self._lock:
                # After an abort the head may end at the shutdown, not where the receiver ended it.
                if self._aborted:
                    raise TimeoutError
                self.retry_after = response.getheader("retry-after")
                self.status = response.status
            # The status is the outcome; the excerpt is a courtesy for the log.
            with contextlib.suppress(OSError, http.client.HTTPException):
                self.excerpt = response.read(EXCERPT_BYTES)
        finally:
            connection.close()  # never drains: whatever the receiver sends past 1 KiB is dropped

    def open_socket(self) -> socket.socket:
        """A TCP connection to the first checked address that accepts one within the deadline."""
        failure: OSError = TimeoutError()
        for address in self._addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.tried = f"{address}:{self._target.port}"
            try:
                sock = socket.create_connection((str(address), self._target.port), timeout=remaining)
            except OSError as exc:
                failure = exc
                continue
            self._hold(sock)
            return sock
        raise failure

    def _secure(self, sock: socket.socket) -> ssl.SSLSocket:
        """`sock` wrapped for TLS with SNI and the certificate check for the URL's host; no handshake yet.

        The handshake waits for the receiver, so `abort` must reach the TLS socket before it starts:
        wrapping detaches `sock`, and shutting down a detached socket unblocks nothing.
        """
        context = self._ssl_context or ssl.create_default_context()
        secured = context.wrap_socket(sock, server_hostname=self._target.host, do_handshake_on_connect=False)
        self._hold(secured)
        return secured

    def _hold(self, sock: socket.socket) -> None:
        """Make `sock` the one `abort` shuts down; closes it and gives up if abort came first."""
        with self._lock:
            if self._aborted:
                sock.close()
                raise TimeoutError
            self._socket = sock

    def abort(self) -> None:
        """Shut the socket down, so a blocked send or receive in the thread returns at once."""
        with self._lock:
            self._aborted = True
            sock = self._socket
        if sock is not None:
            # socket.socket's own shutdown: SSLSocket's would also drop its TLS state under the thread.
            with contextlib.suppress(OSError):  # already closed by the thread: nothing to unblock
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection whose socket goes to a checked address, never to a fresh lookup."""

    def __init__(self, host: str, port: int, exchange: _Exchange) -> None:
        super().__init__(host, port)
        self.sock = exchange.open_socket()

    def connect(self) -> None:
        """Refuse a reconnection: it would have to resolve the name again."""
        raise http.client.NotConnected("a webhook attempt uses one connection only")
