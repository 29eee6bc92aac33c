"""The client kit's exceptions for calls that got no answer in their protocol; imports only `bridge.errors`.

A call either returns a value, raises `bridge.errors.Fault` (the server answered with a fault, or
an argument cannot be expressed in the protocol: -32007, raised before anything is sent), or
raises one of these:

    BridgeError
     ├── Fault                  the server's fault: code, message, data
     └── TransportError         no answer in the protocol; `url` (never with credentials), `reason`
          ├── TransportTimeout  no connection or no answer within the point's timeout
          ├── HTTPStatusError   an HTTP error status without a protocol answer; `status`, `text`
          └── InvalidReply      an answer that is not a valid reply of the protocol

The exception that caused a `TransportError` (an `OSError`, an `http.client` error, the codec's
fault for a garbled reply) is its `__cause__`.
"""

from __future__ import annotations

from bridge.errors import BridgeError


class TransportError(BridgeError):
    """The call got no answer in its protocol: refused, reset, timed out, HTTP error, garbled reply."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class TransportTimeout(TransportError):
    """No connection, or no answer, within the point's timeout."""


class HTTPStatusError(TransportError):
    """The server answered with an HTTP error status and no protocol answer (a fault would be one)."""

    def __init__(self, url: str, status: int, text: str) -> None:
        shown = " ".join(text.split())[:200]
        super().__init__(url, f"HTTP {status}" + (f": {shown}" if shown else ""))
        self.status = status
        self.text = text


class InvalidReply(TransportError):
    """The server answered, but not with a valid reply of the protocol."""
