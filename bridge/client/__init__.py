"""The Python client kit: call XML-RPC, JSON-RPC and pickle-over-HTTP servers, the bridge or any other.

    from bridge.client import XMLRPCPoint, auth_params

    point = XMLRPCPoint("http://127.0.0.1:8080/rpc", param_hook=lambda p: auth_params(user, key) + p)
    point.account.whoami()

Values map through the bridge's own codecs (`bridge.protocols`); connections are kept alive and
reused (standard library `http.client`); given the sidecar's address, every call is recorded in
the bridge's call log as an outgoing call. Failures: `bridge.errors.Fault` when the server
answered with a fault, `TransportError` (see `bridge.client.failures`) when no answer came.
Must not import aiohttp or requests; grpc is loaded only for the outgoing log.
"""

from bridge.auth.signing import auth_params, authorization_header
from bridge.client.failures import HTTPStatusError, InvalidReply, TransportError, TransportTimeout
from bridge.client.jsonrpc_point import JSONRPCBatch, JSONRPCPoint
from bridge.client.pickle_client import PickleClient
from bridge.client.recording import RecordSink
from bridge.client.xmlrpc_point import XMLRPCPoint
from bridge.errors import Fault

__all__ = [
    "Fault",
    "HTTPStatusError",
    "InvalidReply",
    "JSONRPCBatch",
    "JSONRPCPoint",
    "PickleClient",
    "RecordSink",
    "TransportError",
    "TransportTimeout",
    "XMLRPCPoint",
    "auth_params",
    "authorization_header",
]
