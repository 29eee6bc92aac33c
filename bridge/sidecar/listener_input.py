"""A new webhook listener from what a person typed: URL, event types, filter and owner, each checked.

Shared by `rpcbridge webhooks add` and the API's `system.webhooks.add`; pure of I/O (the URL check
does no lookup). Every refusal is an `InvalidListener` whose message is one line saying what is wrong.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from bridge.errors import BridgeError
from bridge.events.model import is_event_type
from bridge.events.webhook_signing import new_secret
from bridge.sidecar.mail_sender import MAILTO, InvalidMailto, is_mailto, parse_mailto
from bridge.sidecar.webhook_targets import TargetError, WebhookPolicy, check_listener_url
from bridge.store.webhook_records import Listener, ListenerSecret

ALL_EVENTS = "*"
MAX_EVENT_TYPES = 64


class InvalidListener(BridgeError, ValueError):
    """A listener that cannot be registered; the message names the part and the problem.

    Also a ValueError, which is what the admin console (a layer below the sidecar) catches.
    """


def parse_match(text: str) -> Any:
    """The filter spec in a `--match` argument (JSON text); InvalidListener when it does not parse."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidListener(f"the filter is not JSON: {exc}") from None


def check_listener(
    url: str,
    event_types: Sequence[str],
    match: Any,
    owner: str,
    policy: WebhookPolicy,
    now: datetime.datetime,
    *,
    allow_mailto: bool = True,
) -> Listener:
    """A listener with a fresh secret, once the URL (SSRF rules), the event types and the filter pass.

    Args:
        allow_mailto: whether a `mailto:` URL may be given (always for the operator; for API users
            only with `webhook_allow_mailto`).
    """
    url = _checked_url(url, policy, allow_mailto)
    types = tuple(dict.fromkeys(event_types)) or (ALL_EVENTS,)
    if len(types) > MAX_EVENT_TYPES:
        raise InvalidListener(f"a listener takes at most {MAX_EVENT_TYPES} event types")
    for name in types:
        if not isinstance(name, str) or (name != ALL_EVENTS and not is_event_type(name)):
            raise InvalidListener(
                f"{name!r} is not an event type (letters, digits and _ . : -, such as person.saved, or *)"
            )
    if ALL_EVENTS in types and len(types) > 1:
        raise InvalidListener("'*' already takes every event type; name no others with it")
    # Imported here: they need google-re2 and cryptography (server packages), and the CLI imports
    # this module in a light install too, where `rpcbridge --version` must still run.
    from bridge.events.filters import InvalidFilter, compile_filter
    from bridge.store.sql_listener_store import new_listener_id

    try:
        compiled = compile_filter({} if match is None else match)
    except InvalidFilter as exc:
        raise InvalidListener(f"the filter is refused: {exc}") from None
    if not owner:
        raise InvalidListener("a listener needs an owner")
    return Listener(
        id=new_listener_id(),
        url=url,
        event_types=types,
        filter=compiled.spec,
        owner=owner,
        secrets=(ListenerSecret(new_secret()),),
        created_at=now,
    )


def _checked_url(url: str, policy: WebhookPolicy, allow_mailto: bool) -> str:
    """The URL as stored: a webhook URL that passes the SSRF rules, or a `mailto:` in its plain form."""
    if isinstance(url, str) and is_mailto(url):
        if not allow_mailto:
            raise InvalidListener("mailto: listeners are not allowed here (webhook_allow_mailto)")
        try:
            return MAILTO + ",".join(parse_mailto(url))
        except InvalidMailto as exc:
            raise InvalidListener(f"the mail address is refused: {exc}") from None
    try:
        check_listener_url(url, policy)
    except TargetError as exc:
        raise InvalidListener(f"the URL is refused: {exc.reason}") from None
    return url
