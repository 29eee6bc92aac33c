"""The request id and the one canonical log line of every HTTP request, as one aiohttp middleware.

Logs to "rpcbridge.frontend" and configures no handlers (the CLI does that). Handlers add their
RPC facts to the line through `RPC_SUMMARY`; the middleware writes it once the response is known.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from bridge.observability import LogLine
from bridge.tracing import Span, continue_or_start, tracer

logger = logging.getLogger("rpcbridge.frontend")

REQUEST_ID_HEADER: Final = "X-Request-Id"

# A client's request id is kept when it is 1..128 printable ASCII characters; a longer or stranger
# one could bloat or forge log lines, so the frontend makes its own instead.
_ACCEPTABLE_REQUEST_ID: Final = re.compile(r"[\x20-\x7e]{1,128}")
_UNPRINTABLE: Final = re.compile(r"[^\x20-\x7e]")
_PROCEDURES_SHOWN: Final = 5
# Fresh request ids: a random prefix per process and a counter, 32 hex digits like a uuid4 and as
# unique, without a system call per request.
_ID_PREFIX: Final = os.urandom(8).hex()
_ID_COUNTER: Final = itertools.count()
# nginx's number for "client closed the request before the response was sent".
CLIENT_CLOSED_REQUEST: Final = 499
# The outcome field of a request whose client hung up before it was whole (no call was made).
CLIENT_CLOSED: Final = "client_closed"
# ... and of one whose body did not arrive within http_body_timeout (answered 408).
BODY_TIMEOUT: Final = "body_timeout"


@dataclass(slots=True)
class RpcSummary:
    """What an RPC handler tells the log line about one request."""

    protocol: str = "-"
    procedures: tuple[str, ...] = ()
    outcome: str = "-"


REQUEST_ID: Final = web.RequestKey("request_id", str)
# This request's span: its trace id goes in the log line, its position travels on to the sidecar.
TRACE: Final = web.RequestKey("trace", Span)
RPC_SUMMARY: Final = web.RequestKey("rpc_summary", RpcSummary)


def request_id_from(header: str | None) -> str:
    """The client's `X-Request-Id` when acceptable, else a fresh id of 32 hex digits."""
    if header is not None and _ACCEPTABLE_REQUEST_ID.fullmatch(header):
        return header
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def loggable(text: str, limit: int = 100) -> str:
    """Client-supplied text made safe for one log line: printable ASCII only, at most `limit` chars."""
    cleaned = _UNPRINTABLE.sub("?", text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def procedures_field(names: Sequence[str]) -> str:
    """The procedures of a request for the log line: the first few, then how many more."""
    if not names:
        return "-"
    shown = ",".join(loggable(name) for name in names[:_PROCEDURES_SHOWN])
    hidden = len(names) - _PROCEDURES_SHOWN
    return f"{shown},+{hidden} more" if hidden > 0 else shown


@web.middleware
async def request_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request its id, echo it in `X-Request-Id`, and write the canonical log line.

    The last line of defence too: an exception no handler caught becomes a bare 500 without a
    traceback (RPC handlers answer in their protocol long before this point).
    """
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID] = request_id
    parent = continue_or_start(request.headers.get("traceparent"), request.headers.get("tracestate"))
    # HTTP semantic conventions: the span is named by the route, whose set is bounded, not the path.
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    attributes = {
        "http.request.method": request.method,
        "http.route": route,
        "url.path": loggable(request.path, 200),
    }
    with tracer().span(f"{request.method} {route}", "server", parent, attributes) as span:
        request[TRACE] = span
        return await _answer(request, handler, request_id)


async def _answer(request: web.Request, handler: Handler, request_id: str) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[REQUEST_ID_HEADER] = request_id
        _write_line(request, exc.status, started)
        raise
    except asyncio.CancelledError:
        _write_line(request, CLIENT_CLOSED_REQUEST, started)
        raise
    except Exception:
        logger.exception("unhandled error in %s request_id=%s", loggable(request.path), request_id)
        response = web.Response(status=500, text="Internal Server Error\n")
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    _write_line(request, response.status, started)
    return response


def _write_line(request: web.Request, status: int, started: float) -> None:
    """Write this request's line, its fields also passed as `extra`.

    At INFO when the request was refused or any of its calls faulted; at DEBUG when every call
    succeeded, because then the sidecar's line for each call (a view of its call-log record) is
    the one canonical line.
    """
    summary = request.get(RPC_SUMMARY) or RpcSummary()
    span = request[TRACE]
    _describe_span(span, summary, status)
    level = logging.DEBUG if status == 200 and summary.outcome == "ok" else logging.INFO
    if not logger.isEnabledFor(level):
        return
    fields = {
        "request_id": request[REQUEST_ID],
        "trace_id": span.context.trace_id,
        "http_method": request.method,
        "http_path": loggable(request.path, 200),
        "http_status": status,
        "protocol": summary.protocol,
        "procedures": procedures_field(summary.procedures),
        "outcome": summary.outcome,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    logger.log(level, LogLine("http", fields), extra=fields)


def _describe_span(span: Span, summary: RpcSummary, status: int) -> None:
    """The request's facts as RPC semantic-convention attributes of its span."""
    span.set("http.response.status_code", status)
    if summary.protocol != "-":
        span.set("rpc.system", summary.protocol)
    if len(summary.procedures) == 1:
        span.set("rpc.method", loggable(summary.procedures[0]))
    if summary.outcome != "-":
        span.set("rpcbridge.outcome", summary.outcome)
    if status >= 500 or summary.outcome not in ("-", "ok"):
        span.error = summary.outcome if summary.outcome != "-" else str(status)
