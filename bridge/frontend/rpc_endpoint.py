"""`POST /rpc`, `/RPC2` and `/rpc/v{N}`: the HTTP side of XML-RPC and JSON-RPC.

Negotiates the protocol, bounds the body before reading it, builds the call context, and hands
the rest to the protocol module. Whatever goes wrong, the client gets its protocol's answer,
never an HTML error page or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from aiohttp import hdrs, web

from bridge.errors import Fault
from bridge.faults import REQUEST_TOO_LARGE, fault
from bridge.frontend.call_context import context_for, with_credentials
from bridge.frontend.dispatch import Dispatcher, Exchange, WireProtocol, internal_error
from bridge.frontend.metrics import FrontendMetrics
from bridge.frontend.negotiation import ACCEPTED_MEDIA_TYPES, UNSUPPORTED_MEDIA_TYPE_TEXT, protocol_for
from bridge.frontend.request_log import (
    BODY_TIMEOUT,
    CLIENT_CLOSED,
    CLIENT_CLOSED_REQUEST,
    REQUEST_ID,
    RPC_SUMMARY,
    RpcSummary,
)
from bridge.settings import FrontendSettings

logger = logging.getLogger("rpcbridge.frontend")

# /rpc/v{N}: N >= 1, at most nine digits so that it fits the int32 it travels as.
VERSIONED_PATH: Final = r"/rpc/v{version:[1-9][0-9]{0,8}}"
RPC_PATHS: Final = ("/rpc", "/RPC2", VERSIONED_PATH)


class IncompleteBody(Exception):
    """The body never arrived whole: the client hung up (499) or was too slow (408)."""

    def __init__(self, status: int, outcome: str, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.outcome = outcome
        self.text = text


def incomplete_body(
    request: web.Request, protocol: str, procedures: tuple[str, ...], exc: IncompleteBody
) -> web.Response:
    """The answer to a request whose body never came: no call was made, so metrics count nothing,
    and the one log line says why; the connection is closed, its stream being out of step."""
    request[RPC_SUMMARY] = RpcSummary(protocol, procedures, exc.outcome)
    response = web.Response(status=exc.status, text=exc.text)
    response.force_close()
    return response


def request_too_large(limit: int) -> Fault:
    """The fault for a body over `max_body_bytes`."""
    return fault(REQUEST_TOO_LARGE, data=f"body is over the limit of {limit} bytes")


async def read_body(request: web.Request, limit: int, seconds: float) -> bytes | Fault:
    """Read the body, refusing it unread when Content-Length is over `limit`, and as soon as it is.

    Reads the stream directly rather than `request.read()`, whose limit answers with an HTML 413
    page that XML-RPC and JSON-RPC clients cannot parse. Chunked and compressed bodies are counted
    as they arrive (after decompression), so neither escapes the limit. A body not complete within
    `seconds` (trickled, or never finished) raises `IncompleteBody` for a 408, a client that
    hangs up mid-body one for a 499.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        return request_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > limit:
                    return request_too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        text = f"request body not received within {seconds:g} s\n"
        raise IncompleteBody(408, BODY_TIMEOUT, text) from None
    except ConnectionError as exc:
        raise IncompleteBody(CLIENT_CLOSED_REQUEST, CLIENT_CLOSED, "client closed the connection\n") from exc
    return b"".join(chunks)


class RpcEndpoint:
    """The request handler for the RPC routes, with everything it needs passed in."""

    def __init__(self, settings: FrontendSettings, dispatcher: Dispatcher, metrics: FrontendMetrics) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one HTTP RPC request in the protocol its Content-Type names (415 for none)."""
        protocol = protocol_for(request.headers.get(hdrs.CONTENT_TYPE, ""))
        if protocol is None:
            return web.Response(
                status=415,
                text=UNSUPPORTED_MEDIA_TYPE_TEXT,
                headers={"Accept-Post": ", ".join(ACCEPTED_MEDIA_TYPES)},
            )
        started = time.perf_counter()
        try:
            exchange = await self._exchange(request, protocol)
        except IncompleteBody as exc:
            return incomplete_body(request, protocol.name, (), exc)
        except Exception:
            # Anything the protocol modules did not turn into a fault themselves: log it with its
            # traceback, answer in the protocol, and keep serving.
            logger.exception(
                "unexpected error answering %s request_id=%s", protocol.name, request[REQUEST_ID]
            )
            exchange = protocol.refuse(internal_error(request[REQUEST_ID]))
        outcome = self.metrics.observe(
            protocol.name, exchange.outcomes, exchange.faulted, time.perf_counter() - started
        )
        request[RPC_SUMMARY] = RpcSummary(protocol.name, exchange.procedures, outcome)
        if exchange.body is None:
            # JSON-RPC section 6: nothing to return (notifications only) is "nothing at all".
            return web.Response(status=204)
        return web.Response(body=exchange.body, headers={hdrs.CONTENT_TYPE: protocol.media_type})

    async def _exchange(self, request: web.Request, protocol: WireProtocol) -> Exchange:
        """Check the limits and headers, read the body, and let the protocol answer it."""
        context = context_for(request, protocol.name, self.settings)
        if isinstance(context, Fault):
            return protocol.refuse(context)
        body = await read_body(request, self.settings.limits.max_body_bytes, self.settings.http_body_timeout)
        if isinstance(body, Fault):
            return protocol.refuse(body)
        context = with_credentials(context, request, body)
        if isinstance(context, Fault):
            return protocol.refuse(context)
        return await protocol.exchange(body, context, self.dispatcher)
