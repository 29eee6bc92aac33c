"""The JSON-RPC codec keeps refusing reserved `rpc.` names, except the extensions a transport offers."""

from __future__ import annotations

from bridge.faults import METHOD_NOT_FOUND
from bridge.protocols import jsonrpc
from bridge.settings import Limits

BODY = b'{"jsonrpc": "2.0", "method": "rpc.subscribe", "params": {"events": ["*"]}, "id": 1}'


def test_rpc_names_are_refused_unless_offered() -> None:
    """POST /rpc offers none; /ws offers rpc.subscribe, and still refuses other rpc. names."""
    refused = jsonrpc.decode_message(BODY, Limits()).requests[0]
    assert refused.error is not None and refused.error.code == METHOD_NOT_FOUND
    offered = jsonrpc.decode_message(BODY, Limits(), frozenset({"rpc.subscribe"})).requests[0]
    assert offered.call is not None and offered.call.named == {"events": ["*"]}
    other = jsonrpc.decode_message(
        BODY.replace(b"subscribe", b"other"), Limits(), frozenset({"rpc.subscribe"})
    )
    assert other.requests[0].error is not None
