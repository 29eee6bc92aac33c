"""`system.webhooks.*`: API users manage their own webhook listeners (docs/events.md, "For API users").

Pure of transport: calls and answers go through the same codec functions as the job queries.
Must not import grpc or protobuf. Another user's listener is answered exactly like a missing one.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from bridge import metadata
from bridge.auth.failures import AuthFailure
from bridge.auth.verifier import Verifier
from bridge.calls import Call, Outcome, Success
from bridge.errors import Fault, Status
from bridge.faults import INVALID_LISTENER, INVALID_PARAMS, UNKNOWN_DELIVERY, UNKNOWN_LISTENER, fault
from bridge.introspection import (
    WEBHOOK_METHODS,
    WEBHOOKS_ADD,
    WEBHOOKS_DELIVERIES,
    WEBHOOKS_LIST,
    WEBHOOKS_REDELIVER,
    WEBHOOKS_REMOVE,
)
from bridge.sidecar.authentication import credentials_from_metadata, lift_credentials
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply
from bridge.sidecar.listener_input import InvalidListener, check_listener
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.database import utc_now
from bridge.store.interfaces import ListenerStore, StoreError
from bridge.store.webhook_records import Attempt, Delivery, Listener

log = logging.getLogger("rpcbridge.sidecar.webhook_api")

STORE_UNAVAILABLE: Final = "the listener store is unavailable; try again later"
# Each user may keep this many listeners: one API key must not fill the outbox's fan-out.
MAX_LISTENERS_PER_USER: Final = 100
# Positional parameter names, in order, per procedure: `add` takes its filter last and optionally.
_PARAMS: Final[Mapping[str, tuple[str, ...]]] = {
    WEBHOOKS_ADD: ("url", "events", "match"),
    WEBHOOKS_LIST: (),
    WEBHOOKS_REMOVE: ("id",),
    WEBHOOKS_DELIVERIES: ("listener_id",),
    WEBHOOKS_REDELIVER: ("delivery_id",),
}


def _iso(moment: datetime.datetime | None) -> str | None:
    # Text, as system.jobStatus answers: every protocol reads it, JSON-RPC has no datetime.
    return None if moment is None else moment.astimezone(datetime.UTC).isoformat()


def describe_listener(listener: Listener) -> dict[str, Any]:
    """A listener as `system.webhooks.list` shows it to its owner (never its secrets)."""
    return {
        "id": listener.id,
        "url": listener.url,
        "events": list(listener.event_types),
        "match": dict(listener.filter),
        "enabled": listener.enabled,
        "disabled_reason": listener.disabled_reason,
        "failing_since": _iso(listener.failing_since),
        "created": _iso(listener.created_at),
    }


def describe_delivery(delivery: Delivery, attempts: Sequence[Attempt]) -> dict[str, Any]:
    """A delivery with every attempt (time, HTTP status or error, duration, response excerpt)."""
    return {
        "id": delivery.id,
        "event": delivery.event_id,
        "type": delivery.event_type,
        "state": delivery.state,
        "created": _iso(delivery.created_at),
        "next_attempt": _iso(delivery.next_attempt_at),
        "finished": _iso(delivery.finished_at),
        "attempts": [
            {
                "time": _iso(attempt.attempted_at),
                "status": attempt.status,
                "error": attempt.error,
                "duration_ms": round(attempt.duration_ms, 3),
                "excerpt": attempt.excerpt,
            }
            for attempt in attempts
        ],
    }


def arguments_of(call: Call) -> list[Any]:
    """The procedure's own arguments, positional or by the positional names (`{"url": ..., ...}`).

    Raises ValueError for a wrong count or unknown names; `add` may leave out its filter.
    """
    names = _PARAMS[call.procedure]
    if call.named is not None:
        unknown = set(call.named) - set(names)
        if unknown:
            raise ValueError(f"{call.procedure} got unexpected parameters: {sorted(unknown)}")
        arguments = [call.named[name] for name in names if name in call.named]
    else:
        arguments = list(call.params)
    least = len(names) - 1 if call.procedure == WEBHOOKS_ADD else len(names)
    if not least <= len(arguments) <= len(names):
        raise ValueError(f"{call.procedure} takes ({', '.join(names)}) after authentication")
    return arguments


class WebhookApi:
    """Interceptor: answers `system.webhooks.*` for the authenticated caller's own listeners.

    Runs after `AuthenticateCalls`; these names are not in the catalogue, so (like the job queries)
    they authenticate here with the same verifier and scope rules: a user whose scopes are set needs
    a pattern that allows the `system.webhooks.*` name called.

    Args:
        allow_mailto: `webhook_allow_mailto`: whether API users may add `mailto:` listeners.
        on_auth_failure: called with every refused authentication (metrics).
    """

    def __init__(
        self,
        store: ListenerStore,
        verifier: Verifier,
        policy: WebhookPolicy,
        decode_call: Callable[[bytes], Call],
        encode_outcome: Callable[[Outcome], bytes],
        on_auth_failure: Callable[[AuthFailure], None],
        *,
        allow_mailto: bool = False,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        self._store = store
        self._verifier = verifier
        self._policy = policy
        self._decode_call = decode_call
        self._encode_outcome = encode_outcome
        self._on_auth_failure = on_auth_failure
        self._allow_mailto = allow_mailto
        self._clock = clock

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        """Answer `system.webhooks.*` here; everything else proceeds."""
        if call.procedure not in WEBHOOK_METHODS:
            return await proceed(call)
        if call.caller is None:
            # Not in the catalogue, so AuthenticateCalls left these to us: verify, and take the
            # auth params out, so the call log never shows them.
            try:
                creds = credentials_from_metadata(call.metadata)
                if creds is None:
                    creds, call = lift_credentials(call)
                user = await self._verifier.verify(
                    creds, call.procedure, call.metadata.get(metadata.HTTP_SCOPE, "")
                )
            except AuthFailure as failure:
                self._on_auth_failure(failure)
                return ProxyReply.failure(failure.status, failure.message, answered=call)
            call = dataclasses.replace(call, caller=user.username)
        try:
            arguments = arguments_of(self._decode_call(call.request))
        except ValueError as exc:
            return self._reply(call, fault(INVALID_PARAMS, data=str(exc)))
        assert call.caller is not None  # set by AuthenticateCalls, or just above
        try:
            outcome = await self._answer(call.procedure, arguments, call.caller)
        except StoreError as exc:
            log.warning("%s failed for %s: %s", call.procedure, call.caller, exc)
            return ProxyReply.failure(Status.UNAVAILABLE, STORE_UNAVAILABLE, answered=call)
        return self._reply(call, outcome)

    def _reply(self, call: ProxiedCall, outcome: Outcome) -> ProxyReply:
        return ProxyReply(self._encode_outcome(outcome), answered=call)

    async def _answer(self, procedure: str, arguments: list[Any], owner: str) -> Outcome:
        """Carry out one procedure for `owner`; refusals are faults the caller can act on."""
        if procedure == WEBHOOKS_ADD:
            return await self._add(arguments, owner)
        if procedure == WEBHOOKS_LIST:
            return Success([describe_listener(item) for item in await self._store.list_listeners(owner)])
        (target,) = arguments
        if not isinstance(target, str):
            return fault(INVALID_PARAMS, data=f"{procedure} takes an id (a string)")
        if procedure == WEBHOOKS_REMOVE:
            removed = await self._store.remove(target, owner=owner)
            return Success(True) if removed else fault(UNKNOWN_LISTENER)
        if procedure == WEBHOOKS_DELIVERIES:
            if await self._store.get(target, owner=owner) is None:
                return fault(UNKNOWN_LISTENER)
            deliveries = await self._store.deliveries(target, owner=owner)
            return Success(
                [describe_delivery(item, await self._store.attempts(item.id)) for item in deliveries]
            )
        queued = await self._store.redeliver(target, owner=owner)
        return Success(True) if queued else fault(UNKNOWN_DELIVERY)

    async def _add(self, arguments: list[Any], owner: str) -> Outcome:
        url, events, *rest = arguments
        match = rest[0] if rest else {}
        if not isinstance(url, str):
            return _invalid("the url is a string")
        if not isinstance(events, list | tuple) or not all(isinstance(name, str) for name in events):
            return _invalid('events is an array of event type names, or ["*"]')
        if len(await self._store.list_listeners(owner)) >= MAX_LISTENERS_PER_USER:
            return _invalid(f"a user may keep at most {MAX_LISTENERS_PER_USER} listeners")
        try:
            listener = check_listener(
                url, events, match, owner, self._policy, self._clock(), allow_mailto=self._allow_mailto
            )
        except InvalidListener as exc:
            return _invalid(str(exc))
        await self._store.add(listener)
        log.info("webhook listener added id=%s owner=%s", listener.id, owner)
        return Success({"id": listener.id, "secret": listener.secrets[0].secret})


def _invalid(reason: str) -> Fault:
    return fault(INVALID_LISTENER, data=reason)
