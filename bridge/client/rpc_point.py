"""What every point shares: its connection, param hook, request ids, outgoing records, attribute calls.

Protocol modules (`xmlrpc_point`, `jsonrpc_point`, `pickle_client`) build on `RPCPoint`; this
module knows no wire format. Imports no HTTP or gRPC library itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar, Final, Self, TypeVar

from bridge.calls import Outcome
from bridge.client.failures import TransportError
from bridge.client.procedure_proxy import ProcedureProxy
from bridge.client.recording import AUTH_PARAM_COUNT, CallNote, CallRecorder, RecordSink, auth_user, sink_for
from bridge.client.transport import DEFAULT_MAX_REPLY_BYTES, HTTPTransport, Reply, parse_endpoint
from bridge.settings import Limits

AnswerT = TypeVar("AnswerT", bound=Outcome | None)

ParamHook = Callable[[list[Any]], Sequence[Any]]
"""Receives a call's positional params (a fresh list) and returns the params to send."""

# Replies may be larger and deeper than the requests a bridge accepts; the size is bounded while
# reading (max_reply_bytes), so the codec's own size check only repeats it.
CLIENT_LIMITS: Final = Limits(
    max_body_bytes=DEFAULT_MAX_REPLY_BYTES, max_depth=512, max_batch=100_000, max_multicall=100_000
)
REQUEST_ID_HEADER: Final = "X-Request-Id"
TIMEOUT_HEADER: Final = "X-RPC-Timeout"


def new_request_id() -> str:
    """A fresh request id, sent as X-Request-Id and kept in the outgoing record."""
    return uuid.uuid4().hex


class RPCPoint:
    """One remote server, called over one reused HTTP connection (see `HTTPTransport`).

    Calls log an outgoing record when the point has a sidecar (see `bridge.client.recording`).
    """

    protocol: ClassVar[str] = ""
    default_path: ClassVar[str] = "/"

    def __init__(
        self,
        url: str,
        param_hook: ParamHook | None = None,
        timeout: float = 30.0,
        sidecar: str | RecordSink | None = None,
        log_arguments: bool = False,
        *,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        endpoint = parse_endpoint(url, self.default_path)
        self._transport = HTTPTransport(endpoint, timeout, max_reply_bytes)
        self._param_hook = param_hook
        self._limits = Limits(
            max_body_bytes=max_reply_bytes,
            max_depth=CLIENT_LIMITS.max_depth,
            max_batch=CLIENT_LIMITS.max_batch,
            max_multicall=CLIENT_LIMITS.max_multicall,
        )
        self._recorder = CallRecorder(sink_for(sidecar), self.protocol, endpoint.url, log_arguments)

    @property
    def url(self) -> str:
        """The server's URL as logs and errors show it (no credentials, no query)."""
        return self._transport.endpoint.url

    @property
    def timeout(self) -> float:
        """Seconds to wait for a connection and for each part of a reply."""
        return self._transport.timeout

    def _params(self, params: Sequence[Any]) -> tuple[list[Any], str, int]:
        """The params to send after the hook, the user its auth params name, and how many to redact."""
        original = list(params)
        if self._param_hook is None:
            return original, "", 0
        sent = list(self._param_hook(list(original)))
        user = auth_user(original, sent)
        return sent, user or "", AUTH_PARAM_COUNT if user is not None else 0

    def _note(self, procedure: str, params: Sequence[Any] | Mapping[str, Any] | None) -> CallNote:
        """A fresh note for one call, with a fresh request id."""
        return CallNote(procedure=procedure, params=params, request_id=new_request_id())

    def _post(
        self, body: bytes, content_type: str, request_id: str, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """POST one request body to the point's path."""
        return self._post_to(self._transport.endpoint.path, body, content_type, request_id, headers)

    def _post_to(
        self,
        path: str,
        body: bytes,
        content_type: str,
        request_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        sent = {
            "Content-Type": content_type,
            "Accept": content_type,
            REQUEST_ID_HEADER: request_id,
            # The bridge's frontend gives up on the call when this point would (docs/client.md);
            # it reads at most 12 integer digits, so an absurd timeout is sent as a day.
            TIMEOUT_HEADER: f"{min(self._transport.timeout, 86400.0):.3f}",
            **(headers or {}),
        }
        return self._transport.post(path, body, sent)

    def call(self, procedure: str, *params: Any, **named: Any) -> Any:
        """Call `procedure` and return its result; raise `Fault` or `TransportError` otherwise."""
        raise NotImplementedError

    def _exchange_recorded(
        self, note: CallNote, send: Callable[[], Reply], read: Callable[[Reply], AnswerT]
    ) -> AnswerT:
        """Send, read the reply, and record the call whatever happened (a transport error is re-raised)."""
        reply: Reply | None = None
        try:
            reply = send()
            answer = read(reply)
        except TransportError as exc:
            self._recorder.record(note, exc, len(reply.body) if reply is not None else 0)
            raise
        self._recorder.record(note, answer, len(reply.body))
        return answer

    def __getattr__(self, name: str) -> ProcedureProxy:
        if name.startswith("_"):
            raise AttributeError(name)
        return ProcedureProxy(self.call, name)

    def close(self) -> None:
        """Close the connection; a later call opens a new one."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
