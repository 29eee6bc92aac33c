"""Content negotiation: the one function that picks a wire protocol from a request's Content-Type.

No aiohttp: takes the raw header text. DESIGN.md, HTTP: XML-RPC for `text/xml` and
`application/xml`; JSON-RPC 2.0 for `application/json`, `application/json-rpc` and
`application/jsonrequest`; parameters such as `charset` are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bridge.frontend.dispatch import WireProtocol
from bridge.frontend.jsonrpc_endpoint import JSONRPC
from bridge.frontend.xmlrpc_endpoint import XMLRPC

# Media type (lower case, without parameters) -> the protocol that serves it.
PROTOCOLS_BY_MEDIA_TYPE: Final[Mapping[str, WireProtocol]] = {
    "text/xml": XMLRPC,
    "application/xml": XMLRPC,
    "application/json": JSONRPC,
    "application/json-rpc": JSONRPC,
    "application/jsonrequest": JSONRPC,
}

ACCEPTED_MEDIA_TYPES: Final = tuple(PROTOCOLS_BY_MEDIA_TYPE)

UNSUPPORTED_MEDIA_TYPE_TEXT: Final = (
    "Unsupported Content-Type. Send XML-RPC as text/xml or application/xml, or JSON-RPC 2.0 as "
    "application/json, application/json-rpc or application/jsonrequest.\n"
)


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header value: lower case, parameters dropped."""
    return content_type.split(";", 1)[0].strip().lower()


def protocol_for(content_type: str) -> WireProtocol | None:
    """The protocol that serves `content_type`, or None when the bridge speaks none for it (HTTP 415)."""
    return PROTOCOLS_BY_MEDIA_TYPE.get(media_type(content_type))
