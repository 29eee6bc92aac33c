"""`XMLRPCPoint`: an XML-RPC client like `xmlrpc.client.ServerProxy`, on the bridge's own codec.

Values map as `bridge.protocols.xmlrpc` says (i8, nil, dateTime with offsets and base64 included,
so they round-trip without loss); a value XML-RPC cannot express raises Fault(-32007) before
anything is sent. Imports no HTTP library itself (see `bridge.client.transport`).
"""

from __future__ import annotations

from typing import Any

from bridge.calls import Outcome
from bridge.client.failures import HTTPStatusError, InvalidReply
from bridge.client.rpc_point import RPCPoint
from bridge.client.transport import Reply
from bridge.errors import Fault
from bridge.protocols.xmlrpc import decode_outcome, encode_call

MEDIA_TYPE = "text/xml"


class XMLRPCPoint(RPCPoint):
    """Calls procedures of one XML-RPC server: `point.echo("hi")`, `point.math.add(1, 2)`.

    Args:
        url: the server's endpoint, e.g. "http://127.0.0.1:8080/rpc"; "/RPC2" when it has no path.
            User info in the URL ("http://user:pw@host/") is sent as HTTP Basic authentication.
        param_hook: turns each call's params into the params sent, e.g.
            `lambda p: auth_params(user, key) + p` for rpcenable-compatible authentication.
        timeout: seconds to wait for a connection and for each part of the reply.
        sidecar: "host:port" of the bridge's sidecar (or a `RecordSink`): each call is then
            recorded in its call log as an outgoing call. None records nothing.
        log_arguments: put the arguments and result in those records (auth params redacted).
    """

    protocol = "xmlrpc"
    default_path = "/RPC2"

    def call(self, procedure: str, *params: Any, **named: Any) -> Any:
        """Call `procedure` with positional params; return its result or raise its `Fault`.

        Use this for names that are not Python identifiers, or that the point's own methods
        shadow (`point.call("close")`). Raises `TransportError` when no XML-RPC answer came.
        """
        if named:
            raise TypeError("XML-RPC passes params by position only")
        sent, user, redacted = self._params(params)
        body = encode_call(procedure, sent)
        note = self._note(procedure, sent)
        note.user, note.redacted, note.request_bytes = user, redacted, len(body)
        outcome = self._exchange_recorded(
            note, lambda: self._post(body, MEDIA_TYPE, note.request_id), self._outcome
        )
        if isinstance(outcome, Fault):
            raise outcome
        return outcome.value

    def _outcome(self, reply: Reply) -> Outcome:
        """The methodResponse in `reply`; HTTP errors without a fault are transport errors."""
        try:
            outcome = decode_outcome(reply.body, self._limits)
        except Fault as exc:
            if reply.status != 200:
                raise HTTPStatusError(self.url, reply.status, reply.text()) from exc
            raise InvalidReply(self.url, f"not an XML-RPC methodResponse ({exc})") from exc
        if reply.status != 200 and not isinstance(outcome, Fault):
            raise HTTPStatusError(self.url, reply.status, reply.text())
        return outcome
