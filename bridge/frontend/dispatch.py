"""Running the calls of one HTTP request, and the seam each wire protocol implements.

No aiohttp: the HTTP side lives in `rpc_endpoint`. `Dispatcher.run` answers `system.*`
introspection from the invoker's catalogue and sends every other call to the invoker; it never
raises (cancellation aside), so a batch member's failure stays that member's fault.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bridge import introspection
from bridge.calls import Call, CallContext, Invoker, Outcome
from bridge.errors import Fault
from bridge.faults import DEADLINE_EXCEEDED, INTERNAL_ERROR, fault
from bridge.frontend.request_log import loggable
from bridge.procedures import visible
from bridge.settings import Limits

logger = logging.getLogger("rpcbridge.frontend")


@dataclass(frozen=True, slots=True)
class Exchange:
    """What one HTTP request came to: the reply body (None: nothing to say) and facts for the log.

    Args:
        procedures: the procedure names the request asked for, in request order.
        outcomes: one per call or batch member, in request order (notifications included).
        refusal: the fault that answered the request as a whole, when it was refused.
    """

    body: bytes | None
    procedures: tuple[str, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    refusal: Fault | None = None

    @property
    def faulted(self) -> bool:
        """True when the request was refused or any of its calls came to a fault."""
        return self.refusal is not None or any(isinstance(o, Fault) for o in self.outcomes)


class WireProtocol(Protocol):
    """One wire protocol served on `/rpc`: decode the body, run its calls, encode the reply."""

    @property
    def name(self) -> str:
        """The protocol's name in `CallContext.protocol`, metrics and logs."""
        ...

    @property
    def media_type(self) -> str:
        """The Content-Type of every reply."""
        ...

    async def exchange(self, body: bytes, context: CallContext, dispatcher: Dispatcher) -> Exchange:
        """Decode `body`, run its calls through `dispatcher` and encode the reply."""
        ...

    def refuse(self, failure: Fault) -> Exchange:
        """Answer a request that is refused as a whole (too large, bad header, internal error)."""
        ...


def internal_error(request_id: str) -> Fault:
    """The internal-error fault a client receives: the request id is all it learns, for operators."""
    return fault(INTERNAL_ERROR, data={"request_id": request_id})


def with_request_id(outcome: Outcome, request_id: str) -> Outcome:
    """Attach the request id to an internal-error fault; every other outcome passes unchanged.

    Only -32603 is annotated: the spec's client errors (-32700, -32600, -32601) stay as the
    specification prints them, and application faults belong to the procedure.
    """
    if not isinstance(outcome, Fault) or outcome.code != INTERNAL_ERROR:
        return outcome
    data: Any = outcome.data
    if data is None:
        data = {"request_id": request_id}
    elif isinstance(data, dict) and "request_id" not in data:
        data = {**data, "request_id": request_id}
    return Fault(outcome.code, outcome.message, data)


class Dispatcher:
    """Runs neutral calls for the frontend: introspection here, everything else through the invoker."""

    def __init__(self, invoker: Invoker, limits: Limits) -> None:
        self.invoker = invoker
        self.limits = limits

    async def run(self, call: Call, context: CallContext, *, multicall: bool) -> Outcome:
        """Run one call and return its outcome; unexpected exceptions become an internal error.

        Args:
            multicall: whether the caller's protocol offers `system.multicall` (for introspection).
        """
        try:
            async with asyncio.timeout(context.timeout) as deadline:
                outcome = await self._run(call, context, multicall=multicall)
        except TimeoutError:
            if not deadline.expired():
                return self._unexpected(call, context)
            # A backstop: the invoker enforces the deadline too, and usually answers first.
            return fault(DEADLINE_EXCEEDED, f"Deadline exceeded: no answer within {context.timeout:g}s")
        except Exception:
            return self._unexpected(call, context)
        return with_request_id(outcome, context.request_id)

    async def run_all(self, calls: Sequence[Call], context: CallContext, *, multicall: bool) -> list[Outcome]:
        """Run calls concurrently (a JSON-RPC batch) and return their outcomes in the same order."""
        return list(await asyncio.gather(*(self.run(call, context, multicall=multicall) for call in calls)))

    async def _run(self, call: Call, context: CallContext, *, multicall: bool) -> Outcome:
        """Answer introspection from the catalogue visible to the request's API version; invoke the rest."""
        if not introspection.is_introspection(call.procedure):
            return await self.invoker.invoke(call, context)
        catalogue = await self.invoker.list_procedures(context)
        if isinstance(catalogue, Fault):
            return catalogue
        # The invoker filters by version too; filtering here keeps /rpc/v{N} honest with any invoker.
        return introspection.answer(
            call,
            visible(catalogue, context.api_version),
            multicall=multicall,
            api_version=context.api_version,
        )

    def _unexpected(self, call: Call, context: CallContext) -> Outcome:
        """Log an exception that should not have happened and turn it into an internal error."""
        logger.exception(
            "unexpected error running %s request_id=%s", loggable(call.procedure), context.request_id
        )
        return internal_error(context.request_id)
