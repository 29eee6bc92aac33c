"""Events at the sidecar: those a worker's reply carries are committed before the reply goes back,
and `system.listEvents` is answered from the hooks in the catalogue (DESIGN.md, Events).

Pure of transport: the reply is read with `bridge.rpc.wire` (no events: nothing is decoded) and
decoded with `bridge.rpc.invoke_codec` only when it carries events. Must not import grpc.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.calls import Outcome, Success
from bridge.errors import Status
from bridge.events.delivery_body import encode_event_data
from bridge.events.model import Event, whitelist
from bridge.faults import INVALID_PARAMS, fault
from bridge.introspection import LIST_EVENTS
from bridge.procedures import HookInfo
from bridge.rpc.invoke_codec import events_from_bytes
from bridge.rpc.wire import WireError, has_events
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply
from bridge.store.interfaces import EventStore, StoreError

log = logging.getLogger("rpcbridge.events")

EVENTS_NOT_RECORDED = "the call ran, but its events could not be recorded; the store is unavailable"


def commit_emitted_events(
    forward: Proceed,
    store: EventStore,
    hook: Callable[[str], HookInfo | None],
    on_dropped: Callable[[str], None] = lambda event_type: None,
) -> Proceed:
    """Wrap the terminal handler: commit the events of each OK reply, then let the reply go back.

    The reply bytes go back untouched. Events of a type no live worker declares are dropped with
    a warning, and every event's data is whitelisted again by its hook's fields (a worker in
    another language may not have done it). When the store fails, the call is answered with
    UNAVAILABLE rather than as if its events had been kept: an answered call's events are never lost.

    Args:
        hook: the catalogue's hook by name.
        on_dropped: told the type of each event dropped for want of a declared hook (metrics).
    """

    async def commit(call: ProxiedCall) -> ProxyReply:
        reply = await forward(call)
        if reply.status is not Status.OK:
            return reply
        try:
            if not has_events(reply.response):
                return reply
            emitted = events_from_bytes(reply.response)
        except (WireError, ValueError):
            return reply  # not ours to judge: the frontend reports a malformed reply
        events = []
        for item in emitted:
            declared = hook(item.type)
            if declared is None:
                log.warning("event of undeclared hook %r dropped (%s)", item.type[:100], call.procedure)
                on_dropped(item.type)
                continue
            data = whitelist(item.data, frozenset(declared.fields))
            try:
                encode_event_data(data)
            except TypeError as exc:
                log.warning("event %s dropped: %s (procedure %s)", item.type, exc, call.procedure)
                on_dropped(item.type)
                continue
            events.append(
                Event(
                    type=item.type,
                    data=data,
                    timestamp=item.timestamp,
                    procedure=call.procedure,
                    request_id=call.request_id,
                    caller=call.caller,
                    auth=declared.auth,
                )
            )
        try:
            await store.commit(events)
        except StoreError as exc:
            log.error("events of %s (request %s) not recorded: %s", call.procedure, call.request_id, exc)
            return ProxyReply.failure(Status.UNAVAILABLE, EVENTS_NOT_RECORDED, answered=reply.answered)
        return reply

    return commit


def list_events(hooks: list[HookInfo]) -> list[dict[str, Any]]:
    """The `system.listEvents` answer: one struct per hook (name, fields, help, auth), sorted by name."""
    return [
        {"name": h.name, "fields": list(h.fields), "help": h.help, "auth": h.auth}
        for h in sorted(hooks, key=lambda h: h.name)
    ]


class ListEvents:
    """Interceptor: answers `system.listEvents` from the catalogue's hooks; passes everything else on."""

    def __init__(
        self,
        hooks: Callable[[], list[HookInfo]],
        decode_call: Callable[[bytes], Any],
        encode_outcome: Callable[[Outcome], bytes],
    ) -> None:
        self._hooks = hooks
        self._decode_call = decode_call
        self._encode_outcome = encode_outcome

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        """Answer `system.listEvents` here; any other call proceeds."""
        if call.procedure != LIST_EVENTS:
            return await proceed(call)
        try:
            decoded = self._decode_call(call.request)
        except ValueError:
            return ProxyReply.failure(Status.INVALID_ARGUMENT, "malformed InvokeRequest")
        if decoded.params or decoded.named:
            outcome: Outcome = fault(INVALID_PARAMS, f"{LIST_EVENTS} takes no parameters")
        else:
            outcome = Success(list_events(self._hooks()))
        return ProxyReply(self._encode_outcome(outcome), answered=call)
