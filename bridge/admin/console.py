"""What the admin console needs from the sidecar: its stores and its procedure catalogue.

Imports only the store seams and procedure descriptors; no aiohttp, no grpc.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.procedures import ProcedureInfo
from bridge.store.interfaces import AdminStore, CallLogStore, EventStore, ListenerStore, UserStore
from bridge.store.webhook_records import Listener


@dataclass(frozen=True, slots=True)
class WebhookConsole:
    """What the listener, delivery and event pages need; the sidecar builds it (the admin layer is below it).

    Args:
        check: a new listener from (url, event types, filter, owner) with a fresh secret, checked as
            `rpcbridge webhooks add` checks it; raises ValueError whose message says what is refused.
        secret_overlap: seconds a rotated-out secret keeps signing (`webhook_secret_overlap`).
    """

    listeners: ListenerStore
    events: EventStore
    check: Callable[[str, Sequence[str], Any, str], Listener]
    secret_overlap: float


@dataclass(frozen=True, slots=True)
class AdminConsole:
    """The admin console's dependencies, passed once when the admin app is built.

    Args:
        workers: worker addresses by procedure name (`Catalogue.workers`).
        describe: a procedure's descriptor, or None when no live worker serves it
            (`Catalogue.describe`).
        session_key: the key that signs session cookies; None means a random key per process,
            so a restart logs every admin out. Give one (32 random bytes) to share sessions
            between sidecars.
        login_attempts: counts admin login attempts per address (shared through Redis when
            set); None counts them in this process.
        trusted_proxies: CIDRs whose X-Forwarded-For names the visitor (setting `trusted_proxies`).
        webhooks: the webhook listeners, deliveries and events pages' needs; None leaves them out.
        frontend_url: where browsers reach a frontend (`frontend_public_url`), for the live
            events page; empty turns the page's live view off.
    """

    users: UserStore
    call_log: CallLogStore
    admin: AdminStore
    workers: Callable[[], dict[str, list[str]]]
    describe: Callable[[str], ProcedureInfo | None]
    session_key: bytes | None = None
    login_attempts: Callable[[str], Awaitable[bool]] | None = None
    trusted_proxies: tuple[str, ...] = ()
    webhooks: WebhookConsole | None = None
    frontend_url: str = ""
