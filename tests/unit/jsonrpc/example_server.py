"""A tiny in-memory JSON-RPC server over the codec, with the methods of the spec's section 7 examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault
from bridge.faults import METHOD_NOT_FOUND, fault
from bridge.protocols.jsonrpc import decode_message, encode_error, encode_replies
from bridge.settings import Limits

LIMITS = Limits()


def _subtract(minuend: int, subtrahend: int) -> int:
    return minuend - subtrahend


def _nothing(*_args: Any) -> None:
    return None


METHODS: dict[str, Callable[..., Any]] = {
    "subtract": _subtract,
    "sum": lambda *numbers: sum(numbers),
    "update": _nothing,
    "notify_hello": _nothing,
    "get_data": lambda: ["hello", 5],
    "notify_sum": lambda *numbers: sum(numbers),
}


def invoke(call: Call) -> Outcome:
    """Run a call the way a server with METHODS would; an unknown method is METHOD_NOT_FOUND."""
    procedure = METHODS.get(call.procedure)
    if procedure is None:
        return fault(METHOD_NOT_FOUND)
    if call.named is not None:
        return Success(procedure(**call.named))
    return Success(procedure(*call.params))


def serve(body: bytes | str, limits: Limits = LIMITS) -> bytes | None:
    """Answer a request body as the frontend does: decode, run each call, encode the replies."""
    raw = body.encode() if isinstance(body, str) else body
    try:
        message = decode_message(raw, limits)
    except Fault as failure:
        return encode_error(failure)
    outcomes = [None if request.call is None else invoke(request.call) for request in message.requests]
    return encode_replies(message, outcomes)


def canonical(document: Any) -> str:
    """JSON text that differs whenever values or types differ (19 vs 19.0, true vs 1), not key order."""
    return json.dumps(document, sort_keys=True)


def answer(body: bytes | str) -> Any:
    """The parsed reply to a request body, or None when nothing is sent back."""
    reply = serve(body)
    return None if reply is None else json.loads(reply)
