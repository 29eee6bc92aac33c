"""`POST /pickle/{procedure}`: pickle-over-HTTP, off unless `pickle_enabled`, for signed callers only.

The HTTP side only; `bridge.protocols.pickle_http` decodes and encodes. The body is bounded by
`read_body` and the credentials lifted by `with_credentials`, as on `/rpc`. Refusals of the
request itself are plain text (404 disabled, 401 unsigned, 400 bad pickle); the outcome of a call
is a pickle, with the status `bridge.faults.http_status_for` gives its fault (DESIGN.md, Security).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Final

from aiohttp import hdrs, web

from bridge import introspection, metadata
from bridge.auth.failures import AuthFailure
from bridge.calls import Call, Outcome
from bridge.errors import Fault
from bridge.frontend.call_context import context_for, with_credentials
from bridge.frontend.dispatch import Dispatcher, internal_error
from bridge.frontend.metrics import FrontendMetrics
from bridge.frontend.request_log import REQUEST_ID, RPC_SUMMARY, RpcSummary, loggable
from bridge.frontend.rpc_endpoint import IncompleteBody, incomplete_body, read_body
from bridge.protocols import pickle_http
from bridge.settings import FrontendSettings

logger = logging.getLogger("rpcbridge.frontend")

PICKLE_PATH: Final = "/pickle/{procedure}"
PROTOCOL: Final = "pickle"
DISABLED_TEXT: Final = "pickle-over-HTTP is disabled (pickle_enabled)\n"
# The frontend answers system.* from the catalogue without the sidecar, so it could not make the
# signature count; over pickle, where every call must be signed, they are not served at all.
INTROSPECTION_TEXT: Final = "system.* introspection is not served over pickle-over-HTTP; use /rpc\n"
UNSIGNED_TEXT: Final = (
    "Unauthenticated: pickle-over-HTTP needs an 'Authorization: RPCBRIDGE-HMAC-SHA256 Credential=..., "
    "Nonce=..., Timestamp=..., Signature=...' header that signs the body (see docs/pickle.md)\n"
)
# The audit runs in Python at about a microsecond per opcode: bigger bodies are decoded on a
# thread, so that one large pickle does not hold up every other request on the event loop.
INLINE_DECODE_BYTES: Final = 64 * 1024


def plain_text(status: int, text: str) -> web.Response:
    """A text/plain response, as every refusal of a pickle request is."""
    return web.Response(status=status, text=text if text.endswith("\n") else text + "\n")


def reason(failure: Fault) -> str:
    """One line for the client: the fault's message and, when it has one, its detail."""
    detail = failure.detail if isinstance(failure, AuthFailure) else failure.data
    return f"{failure.message}: {detail}" if detail else failure.message


class PickleEndpoint:
    """The request handler for `POST /pickle/{procedure}`, with everything it needs passed in."""

    def __init__(self, settings: FrontendSettings, dispatcher: Dispatcher, metrics: FrontendMetrics) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one pickle request; never a traceback, and never a 500 for a bad pickle."""
        if not self.settings.pickle_enabled:
            return plain_text(404, DISABLED_TEXT)
        started = time.perf_counter()
        procedure = request.match_info["procedure"]
        try:
            response, outcome = await self._answer(request, procedure)
        except IncompleteBody as exc:
            return incomplete_body(request, PROTOCOL, (procedure,), exc)
        except Exception:
            logger.exception(
                "unexpected error answering pickle request_id=%s procedure=%s",
                request[REQUEST_ID],
                loggable(procedure),
            )
            outcome = internal_error(request[REQUEST_ID])
            response = self._pickled(outcome)
        label = self.metrics.observe(
            PROTOCOL,
            () if outcome is None else (outcome,),
            outcome is None or isinstance(outcome, Fault),
            time.perf_counter() - started,
        )
        request[RPC_SUMMARY] = RpcSummary(PROTOCOL, (procedure,), label)
        return response

    async def _answer(self, request: web.Request, procedure: str) -> tuple[web.Response, Outcome | None]:
        """The response, and the call's outcome (None when the request was refused before the call)."""
        if introspection.is_introspection(procedure):
            return plain_text(404, INTROSPECTION_TEXT), None
        context = context_for(request, PROTOCOL, self.settings)
        if isinstance(context, Fault):
            return plain_text(400, reason(context)), None
        # Checked before the body is read: an unsigned request is not worth reading, let alone unpickling.
        if hdrs.AUTHORIZATION not in request.headers:
            return self._unauthenticated(UNSIGNED_TEXT), None
        body = await read_body(request, self.settings.limits.max_body_bytes, self.settings.http_body_timeout)
        if isinstance(body, Fault):
            return plain_text(400, reason(body)), None
        context = with_credentials(context, request, body)
        if isinstance(context, Fault):
            return self._unauthenticated(reason(context)), None
        # The frontend cannot check the signature (it holds no keys): it asks the sidecar to,
        # whether or not the procedure is declared auth=True.
        context = dataclasses.replace(context, extra={**context.extra, metadata.AUTH_REQUIRED: "1"})
        try:
            call = await self._decode(procedure, body)
        except Fault as refused:
            return plain_text(400, reason(refused)), None
        outcome = await self.dispatcher.run(call, context, multicall=False)
        return self._pickled(outcome), outcome

    async def _decode(self, procedure: str, body: bytes) -> Call:
        """Decode on the event loop when small, on a thread when large."""
        if len(body) <= INLINE_DECODE_BYTES:
            return pickle_http.decode_call(procedure, body, self.settings.limits)
        return await asyncio.to_thread(pickle_http.decode_call, procedure, body, self.settings.limits)

    @staticmethod
    def _pickled(outcome: Outcome) -> web.Response:
        status, reply = pickle_http.encode_outcome(outcome)
        return web.Response(status=status, body=reply, content_type=pickle_http.MEDIA_TYPE)

    @staticmethod
    def _unauthenticated(text: str) -> web.Response:
        response = plain_text(401, text)
        # RFC 9110 section 15.5.2: a 401 carries WWW-Authenticate naming the scheme.
        response.headers[hdrs.WWW_AUTHENTICATE] = "RPCBRIDGE-HMAC-SHA256"
        return response
