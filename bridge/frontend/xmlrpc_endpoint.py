"""XML-RPC over HTTP POST: decode with the codec, run the call or multicall, encode the response.

No aiohttp: `rpc_endpoint` owns the HTTP side. Every answer, fault or not, is a methodResponse
sent with HTTP 200 (faults use the interoperability codes, DESIGN.md, Errors).
"""

from __future__ import annotations

from typing import Any, Final

from bridge.calls import Call, CallContext, Outcome, Success
from bridge.errors import Fault
from bridge.faults import INTERNAL_ERROR
from bridge.frontend.dispatch import Dispatcher, Exchange
from bridge.introspection import MULTICALL
from bridge.protocols import xmlrpc


class XmlRpcProtocol:
    """The XML-RPC wire protocol, as served on `/rpc` and `/RPC2`."""

    name: Final = "xmlrpc"
    media_type: Final = "text/xml; charset=utf-8"

    async def exchange(self, body: bytes, context: CallContext, dispatcher: Dispatcher) -> Exchange:
        """Answer one methodCall; a body the codec refuses is answered with its fault."""
        try:
            call = xmlrpc.decode_call(body, dispatcher.limits)
        except Fault as failure:
            return self.refuse(failure)
        if call.procedure == MULTICALL:
            return await self._multicall(call, context, dispatcher)
        outcome = await dispatcher.run(call, context, multicall=True)
        return Exchange(
            xmlrpc.encode_outcome(_readable(outcome)), procedures=(call.procedure,), outcomes=(outcome,)
        )

    def refuse(self, failure: Fault) -> Exchange:
        """A fault methodResponse for a request refused as a whole."""
        return Exchange(xmlrpc.encode_outcome(_readable(failure)), refusal=failure)

    async def _multicall(self, call: Call, context: CallContext, dispatcher: Dispatcher) -> Exchange:
        """Run the entries of a system.multicall one after another, in order, as the proposal requires.

        The codec refuses a bad entry, a nested system.multicall included, in that entry's slot.
        """
        try:
            entries = xmlrpc.expand_multicall(call, dispatcher.limits)
        except Fault as failure:
            return Exchange(
                xmlrpc.encode_outcome(_readable(failure)), procedures=(MULTICALL,), refusal=failure
            )
        outcomes: list[Outcome] = []
        for entry in entries:
            if isinstance(entry, Fault):
                outcomes.append(entry)
            else:
                outcomes.append(await dispatcher.run(entry, context, multicall=True))
        result = xmlrpc.multicall_result([_readable(outcome) for outcome in outcomes])
        return Exchange(
            xmlrpc.encode_outcome(Success(result)),
            procedures=(MULTICALL, *(entry.procedure for entry in entries if isinstance(entry, Call))),
            outcomes=tuple(outcomes),
        )


def _readable(outcome: Outcome) -> Outcome:
    """Put an internal error's request id into its faultString, the one field XML-RPC clients show.

    A fault struct has only faultCode and faultString, and the codec writes `data` into the
    string only when it is text, so the JSON form `{"request_id": ...}` is rewritten as text.
    """
    if not isinstance(outcome, Fault) or outcome.code != INTERNAL_ERROR:
        return outcome
    data: Any = outcome.data
    if isinstance(data, dict) and isinstance(data.get("request_id"), str):
        return Fault(outcome.code, outcome.message, f"request_id {data['request_id']}")
    return outcome


XMLRPC: Final = XmlRpcProtocol()
