"""One keep-alive HTTP/1.1 connection per point, on the standard library's `http.client`.

Owns connecting, the timeout, the one reconnect on a stale keep-alive connection, bounded reading
of replies, and translating `OSError` / `http.client` failures into `TransportError` (most specific
first, always `raise ... from exc`). Must not import aiohttp, requests or grpc.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bridge.client.failures import TransportError, TransportTimeout

USER_AGENT: Final = "rpcbridge-client/0.1"
DEFAULT_MAX_REPLY_BYTES: Final = 64 << 20
_READ_CHUNK: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a point sends its requests, parsed once from its URL.

    Args:
        url: the URL as logs and errors show it: no user name, password, query or fragment.
        path: the request path, query included, as sent on the request line.
        basic_auth: an `Authorization: Basic ...` value from the URL's user info, if it has one.
    """

    scheme: str
    host: str
    port: int
    path: str
    url: str
    basic_auth: str | None = None


def parse_endpoint(url: str, default_path: str = "/") -> Endpoint:
    """Parse an http:// or https:// URL; raise ValueError for anything else."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: use http:// or https://")
    if not parts.hostname:
        raise ValueError(f"URL {url!r} names no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError(f"URL {url!r} has an invalid port") from exc
    path = parts.path or default_path
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown_port = "" if parts.port is None else f":{parts.port}"
    basic_auth = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        basic_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return Endpoint(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        path=path + (f"?{parts.query}" if parts.query else ""),
        url=f"{scheme}://{host}{shown_port}{path}",
        basic_auth=basic_auth,
    )


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP reply read whole: status, Content-Type and body."""

    status: int
    content_type: str
    body: bytes

    def text(self, limit: int = 1000) -> str:
        """The start of the body as text, for error messages."""
        return self.body[:limit].decode("utf-8", "replace")


def _reason(exc: BaseException) -> str:
    """Words for a connection failure, most specific first."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, BrokenPipeError | ConnectionAbortedError):
        return "the connection broke while sending the request"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failure ({exc.reason or exc})"
    if isinstance(exc, http.client.HTTPException):
        return f"malformed HTTP reply ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc)


class HTTPTransport:
    """POSTs requests to one server over one reused HTTP/1.1 connection.

    Safe to share between threads: requests on one transport are serialised on its connection.
    For parallel calls, give each thread its own point.
    """

    def __init__(
        self, endpoint: Endpoint, timeout: float, max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    ) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.endpoint = endpoint
        self.timeout = timeout
        self.max_reply_bytes = max_reply_bytes
        self._lock = threading.Lock()
        self._connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        endpoint = self.endpoint
        if endpoint.scheme == "https":
            return http.client.HTTPSConnection(
                endpoint.host, endpoint.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=self.timeout)

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """POST `body` to `path`; the reply whatever its status, or TransportError when there is none.

        A keep-alive connection the server closed while it was idle is noticed only when it is
        used: then the request is sent once more on a new connection, as `xmlrpc.client` does,
        but only when the old one failed before any byte of a reply arrived.
        """
        sent = {"User-Agent": USER_AGENT, "Content-Length": str(len(body)), **headers}
        if self.endpoint.basic_auth is not None and "Authorization" not in sent:
            sent["Authorization"] = self.endpoint.basic_auth
        with self._lock:
            reused = self._connection.sock is not None
            response = self._send(path, body, sent, may_retry=reused)
            if response is None:
                response = self._send(path, body, sent, may_retry=False)
                assert response is not None
            return self._read(response)

    def _send(
        self, path: str, body: bytes, headers: Mapping[str, str], may_retry: bool
    ) -> http.client.HTTPResponse | None:
        """Send and wait for the status line; None when a stale connection should be retried."""
        connection = self._connection
        try:
            connection.request("POST", path, body, dict(headers))
            return connection.getresponse()
        except TimeoutError as exc:
            connection.close()
            raise TransportTimeout(self.endpoint.url, f"no answer within {self.timeout:g} s") from exc
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            # RemoteDisconnected is a ConnectionResetError: the server closed before answering.
            connection.close()
            if may_retry:
                return None
            raise TransportError(self.endpoint.url, _reason(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise TransportError(self.endpoint.url, _reason(exc)) from exc

    def _read(self, response: http.client.HTTPResponse) -> Reply:
        """Read the whole body, refusing one over `max_reply_bytes`."""
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.read(_READ_CHUNK):
                size += len(chunk)
                if size > self.max_reply_bytes:
                    self._connection.close()
                    raise TransportError(
                        self.endpoint.url, f"reply larger than the limit of {self.max_reply_bytes} bytes"
                    )
                chunks.append(chunk)
        except TimeoutError as exc:
            self._connection.close()
            raise TransportTimeout(
                self.endpoint.url, f"reply not complete within {self.timeout:g} s"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            self._connection.close()
            raise TransportError(self.endpoint.url, _reason(exc)) from exc
        return Reply(response.status, response.getheader("Content-Type", ""), b"".join(chunks))

    def close(self) -> None:
        """Close the connection; a later request opens a new one."""
        with self._lock:
            self._connection.close()
