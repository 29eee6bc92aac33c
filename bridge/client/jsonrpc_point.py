"""`JSONRPCPoint`: a JSON-RPC 2.0 client with notifications and batches, on the bridge's own codec.

Values map as `bridge.protocols.jsonrpc` says; bytes, datetimes, NaN and infinities raise
Fault(-32007) before anything is sent. Imports no HTTP library itself.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from bridge.calls import ABSENT, Absent, Outcome
from bridge.client.failures import HTTPStatusError, InvalidReply, TransportError
from bridge.client.procedure_proxy import ProcedureProxy
from bridge.client.recording import CallNote
from bridge.client.rpc_point import RPCPoint, new_request_id
from bridge.client.transport import Reply
from bridge.errors import Fault
from bridge.protocols.jsonrpc import JsonId, decode_batch_response, decode_response, encode_request

MEDIA_TYPE = "application/json"

Params = list[Any] | dict[str, Any]


class JSONRPCPoint(RPCPoint):
    """Calls procedures of one JSON-RPC 2.0 server: `point.subtract(42, 23)`, `point.f(a=1)`.

    Arguments go by position or, as keywords, by name (section 4.2), never both. The other
    arguments are those of `XMLRPCPoint`; `param_hook` applies to positional params only.
    """

    protocol = "jsonrpc"

    @functools.cached_property
    def _ids(self) -> Iterator[int]:
        """This point's request ids: 1, 2, 3, ..."""
        return itertools.count(1)

    def call(self, procedure: str, *params: Any, **named: Any) -> Any:
        """Call `procedure`; return its result or raise its `Fault` (or `TransportError`)."""
        outcome = self._exchange(procedure, params, named, notification=False)
        if isinstance(outcome, Fault):
            raise outcome
        assert outcome is not None  # a call, unlike a notification, always has an outcome
        return outcome.value

    def notify(self, procedure: str, *params: Any, **named: Any) -> None:
        """Send a notification: no reply is expected (section 4.1), so none is returned.

        Raises `TransportError` when it could not be delivered, and the server's `Fault` when it
        answered with one anyway (as servers do for a request they cannot read).
        """
        failure = self._exchange(procedure, params, named, notification=True)
        if isinstance(failure, Fault):
            raise failure

    def _exchange(
        self, procedure: str, params: tuple[Any, ...], named: dict[str, Any], *, notification: bool
    ) -> Outcome | None:
        """Send one request and record it; the outcome (a notification's: None or a `Fault`)."""
        member = self._member(procedure, params, named, notification=notification)
        note = self._note(procedure, member.params)
        note.user, note.redacted, note.request_bytes = member.user, member.redacted, len(member.body)
        read = self._notification_fault if notification else self._outcome
        return self._exchange_recorded(
            note, lambda: self._post(member.body, MEDIA_TYPE, note.request_id), read
        )

    def batch(self) -> JSONRPCBatch:
        """A batch (section 6): collect calls and notifications, then send them in one request."""
        return JSONRPCBatch(self)

    def _member(
        self, procedure: str, params: Sequence[Any], named: Mapping[str, Any], notification: bool
    ) -> _Member:
        """Encode one request object, the param hook applied."""
        if params and named:
            raise TypeError("JSON-RPC takes params by position or by name, not both")
        user, redacted = "", 0
        sent: Params
        if named:
            if self._param_hook is not None:
                raise TypeError("param_hook adds positional params; call by position")
            sent = dict(named)
        else:
            sent, user, redacted = self._params(params)
        request_id: JsonId | Absent = ABSENT if notification else next(self._ids)
        body = encode_request(procedure, sent, request_id)
        return _Member(procedure, sent, request_id, body, user, redacted)

    def _outcome(self, reply: Reply) -> Outcome:
        """The Response object in `reply`; HTTP errors without an error object are transport errors."""
        if not reply.body:
            if reply.status >= 300:
                raise HTTPStatusError(self.url, reply.status, "")
            raise InvalidReply(self.url, f"empty reply (HTTP {reply.status}) to a call")
        try:
            outcome = decode_response(reply.body, self._limits)
        except Fault as exc:
            raise self._unreadable(reply, exc) from exc
        if reply.status != 200 and not isinstance(outcome, Fault):
            raise HTTPStatusError(self.url, reply.status, reply.text())
        return outcome

    def _notification_fault(self, reply: Reply) -> Fault | None:
        """The fault a server sent in answer to a notification, if it sent one."""
        if reply.status >= 300 and not reply.body:
            raise HTTPStatusError(self.url, reply.status, "")
        if not reply.body:
            return None
        try:
            outcome = decode_response(reply.body, self._limits)
        except Fault as exc:
            raise self._unreadable(reply, exc) from exc
        if isinstance(outcome, Fault):
            return outcome
        if reply.status >= 300:
            raise HTTPStatusError(self.url, reply.status, reply.text())
        return None

    def _unreadable(self, reply: Reply, problem: Fault) -> TransportError:
        if reply.status != 200:
            return HTTPStatusError(self.url, reply.status, reply.text())
        return InvalidReply(self.url, f"not a JSON-RPC 2.0 response ({problem})")


@dataclass(frozen=True, slots=True)
class _Member:
    """One encoded request object of a call, notification or batch."""

    procedure: str
    params: Params
    id: JsonId | Absent
    body: bytes
    user: str
    redacted: int


class JSONRPCBatch:
    """Calls collected for one batch request; `send()` returns their results in order.

    A member that failed holds its `Fault` in its place; notifications take no place. Used as a
    context manager, the batch is sent when the block ends without an exception:

        with point.batch() as batch:
            batch.echo("a")
            batch.math.divide(1, 0)
        batch.results  # ["a", Fault(1, 'division by zero')]

    The whole batch raises `TransportError` when no valid reply came, and the server's `Fault`
    when it answered the batch as a whole with one (a parse error, a batch over its limit).
    In the call log, each member is one record; all carry the batch's request id, duration
    and request and reply sizes.
    """

    def __init__(self, point: JSONRPCPoint) -> None:
        self._point = point
        self._members: list[_Member] = []
        self._results: list[Any] | None = None

    def call(self, procedure: str, *params: Any, **named: Any) -> int:
        """Add a call; returns its index in the results."""
        self._members.append(self._point._member(procedure, params, named, notification=False))
        return sum(1 for member in self._members if member.id is not ABSENT) - 1

    def notify(self, procedure: str, *params: Any, **named: Any) -> None:
        """Add a notification (it gets no result)."""
        self._members.append(self._point._member(procedure, params, named, notification=True))

    def __getattr__(self, name: str) -> ProcedureProxy:
        if name.startswith("_"):
            raise AttributeError(name)
        return ProcedureProxy(self.call, name)

    def __len__(self) -> int:
        return len(self._members)

    @property
    def results(self) -> list[Any]:
        """The results of the sent batch, in the order the calls were added."""
        if self._results is None:
            raise RuntimeError("the batch has not been sent yet")
        return self._results

    def send(self) -> list[Any]:
        """Send the batch once; results in call order, each failed member's `Fault` in its place."""
        if self._results is not None:
            raise RuntimeError("a batch is sent only once")
        if not self._members:
            # Section 6: an empty array is an invalid request; there is nothing to send.
            self._results = []
            return self._results
        point = self._point
        body = b"[" + b",".join(member.body for member in self._members) + b"]"
        request_id = new_request_id()
        notes = [
            CallNote(
                procedure=member.procedure,
                params=member.params,
                request_id=request_id,
                user=member.user,
                redacted=member.redacted,
                request_bytes=len(body),
            )
            for member in self._members
        ]
        reply: Reply | None = None
        try:
            reply = point._post(body, MEDIA_TYPE, request_id)
            outcomes = self._outcomes(reply)
        except (TransportError, Fault) as exc:
            for note in notes:
                point._recorder.record(note, exc, len(reply.body) if reply is not None else 0)
            raise
        for note, member in zip(notes, self._members, strict=True):
            outcome = None if member.id is ABSENT else outcomes[member.id]
            point._recorder.record(note, outcome, len(reply.body))
        self._results = [_value(outcomes[member.id]) for member in self._members if member.id is not ABSENT]
        return self._results

    def _outcomes(self, reply: Reply) -> dict[JsonId, Outcome]:
        """Outcomes by id; raises the fault the server answered the whole batch with, if it did."""
        point = self._point
        expected = [member.id for member in self._members if member.id is not ABSENT]
        if not reply.body:
            if reply.status >= 300:
                raise HTTPStatusError(point.url, reply.status, "")
            if expected:
                raise InvalidReply(point.url, f"empty reply (HTTP {reply.status}) to a batch with calls")
            return {}
        try:
            outcomes = decode_batch_response(reply.body, point._limits)
        except Fault as exc:
            raise point._unreadable(reply, exc) from exc
        whole = outcomes.get(None)
        if isinstance(whole, Fault) and not any(key in outcomes for key in expected):
            raise whole
        missing = [key for key in expected if key not in outcomes]
        if missing:
            raise InvalidReply(point.url, f"no reply for the batch's request id(s) {missing[:5]}")
        return outcomes

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.send()


def _value(outcome: Outcome) -> Any:
    return outcome if isinstance(outcome, Fault) else outcome.value
