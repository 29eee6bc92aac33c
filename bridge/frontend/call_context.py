"""The `CallContext` of one HTTP request: request id, deadline, API version, protocol and peer.

One context per HTTP request, shared by every call of a batch or multicall. Reads headers only;
the request id itself is assigned by `request_log`, which echoes it on the response.
"""

from __future__ import annotations

import dataclasses
import math
import re
import secrets
from typing import Final

from aiohttp import hdrs, web

from bridge import metadata
from bridge.auth.signing import parse_authorization
from bridge.calls import CallContext
from bridge.errors import Fault
from bridge.faults import INVALID_REQUEST, fault
from bridge.forwarded import client_address
from bridge.frontend.request_log import REQUEST_ID, TRACE
from bridge.settings import FrontendSettings

TIMEOUT_HEADER: Final = "X-RPC-Timeout"

# Plain decimal seconds ("2", "0.5", ".25"): no sign, exponent, "inf" or "nan", and [0-9] rather
# than \d, which would let other scripts' digits through to float().
_DECIMAL_SECONDS: Final = re.compile(r"[0-9]{1,12}(?:\.[0-9]{0,9})?|\.[0-9]{1,9}")

INVALID_TIMEOUT: Final = fault(
    INVALID_REQUEST, f"Invalid Request: {TIMEOUT_HEADER} must be a positive decimal number of seconds"
)


def timeout_from(header: str | None, settings: FrontendSettings) -> float | Fault:
    """Seconds the request's calls may take: the header's, clamped to `max_timeout`, else the default.

    Returns a fault for a header that is not a positive decimal number.
    """
    if header is None:
        return settings.default_timeout
    text = header.strip()
    if not _DECIMAL_SECONDS.fullmatch(text):
        return INVALID_TIMEOUT
    seconds = float(text)
    if not (math.isfinite(seconds) and seconds > 0):
        return INVALID_TIMEOUT
    return min(seconds, settings.max_timeout)


def context_for(request: web.Request, protocol: str, settings: FrontendSettings) -> CallContext | Fault:
    """The context every call of this HTTP request carries, or the fault its headers earn."""
    timeout = timeout_from(request.headers.get(TIMEOUT_HEADER), settings)
    if isinstance(timeout, Fault):
        return timeout
    trace = request[TRACE].context
    return CallContext(
        request_id=request[REQUEST_ID],
        timeout=timeout,
        # The route only matches /rpc/v{N} with N >= 1; /rpc and /RPC2 mean "any version" (0).
        api_version=int(request.match_info.get("version", "0")),
        protocol=protocol,
        peer=client_address(
            request.remote or "", request.headers.getall(hdrs.X_FORWARDED_FOR, ()), settings.trusted_proxies
        ),
        # A secret, random id for this HTTP request: the sidecar accepts one nonce again within
        # it, so a batch or multicall signed once is checked once (DESIGN.md, Security).
        extra={metadata.HTTP_SCOPE: secrets.token_hex(16)},
        traceparent=trace.header,
        tracestate=trace.tracestate,
    )


def with_credentials(context: CallContext, request: web.Request, body: bytes) -> CallContext | Fault:
    """Add the header-form credentials (`Authorization: RPCBRIDGE-HMAC-SHA256 ...`), if sent.

    The signature covers the method, the path as sent (without the query) and the body's SHA-256,
    so the sidecar can reject a tampered body. A malformed header is refused here.
    """
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None:
        return context
    try:
        creds = parse_authorization(
            header, method=request.method, path=request.raw_path.partition("?")[0], body=body
        )
    except Fault as refused:
        return refused
    return dataclasses.replace(context, credentials=creds)
