"""JSON-RPC 2.0 over HTTP POST: decode with the codec, run the members, encode the replies.

No aiohttp: `rpc_endpoint` owns the HTTP side. Batch members run concurrently; notifications run
too, and their outcomes are discarded by the codec (section 4.1: no reply to a notification).
"""

from __future__ import annotations

from typing import Final

from bridge.calls import CallContext, Outcome
from bridge.errors import Fault
from bridge.frontend.dispatch import Dispatcher, Exchange
from bridge.protocols import jsonrpc


class JsonRpcProtocol:
    """The JSON-RPC 2.0 wire protocol, as served on `/rpc` (and, with its `rpc.` extensions, `/ws`).

    Args:
        extensions: the reserved `rpc.` methods the transport answers; none on `/rpc`.
    """

    name: Final = "jsonrpc"
    media_type: Final = "application/json"

    def __init__(self, extensions: frozenset[str] = frozenset()) -> None:
        self.extensions = extensions

    async def exchange(self, body: bytes, context: CallContext, dispatcher: Dispatcher) -> Exchange:
        """Answer one JSON-RPC request or batch; None as the body means HTTP 204.

        Section 6: the server "MAY process a batch rpc call as a set of concurrent tasks,
        processing them in any order"; replies keep request order anyway.
        """
        try:
            message = jsonrpc.decode_message(body, dispatcher.limits, self.extensions)
        except Fault as failure:
            return self.refuse(failure)
        calls = [request.call for request in message.requests if request.call is not None]
        ran = iter(await dispatcher.run_all(calls, context, multicall=False))
        # The codec wants one entry per member, None for members that carry their own error.
        outcomes: list[Outcome | None] = []
        carried: list[Outcome] = []
        for request in message.requests:
            if request.call is not None:
                outcome = next(ran)
                outcomes.append(outcome)
                carried.append(outcome)
            else:
                outcomes.append(None)
                if request.error is not None:
                    carried.append(request.error)
        return Exchange(
            jsonrpc.encode_replies(message, outcomes),
            procedures=tuple(call.procedure for call in calls),
            outcomes=tuple(carried),
        )

    def refuse(self, failure: Fault) -> Exchange:
        """Section 5: an error reply with id null, for a body that failed as a whole."""
        return Exchange(jsonrpc.encode_error(failure), refusal=failure)


JSONRPC: Final = JsonRpcProtocol()
