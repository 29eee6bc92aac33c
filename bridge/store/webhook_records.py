"""The webhook values stores hold and hand back: `Listener` (with its secrets), `Delivery`, `Attempt`.

Pure data with validation; imports only the standard library.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

ADMIN_OWNER: Final = "admin"
"""The owner of listeners added by the operator (`rpcbridge webhooks add`, the admin UI)."""

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DELIVERY_FAILED: Final = "failed"
DELIVERY_STATES: Final = frozenset({PENDING, DELIVERED, DELIVERY_FAILED})


def _aware(name: str, moment: datetime.datetime | None) -> None:
    if moment is not None and moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ListenerSecret:
    """One signing secret (`whsec_...`); `expires_at` is set once a rotation replaced it."""

    secret: str
    expires_at: datetime.datetime | None = None

    def __post_init__(self) -> None:
        _aware("ListenerSecret.expires_at", self.expires_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """A webhook listener: where events go, which ones (types, or "*", and a filter), whose it is.

    Args:
        event_types: event types delivered, or ("*",) for every type.
        filter: the canonical filter spec (`EventFilter.spec`), {} for every event.
        owner: the API user who added it, or "admin".
        secrets: newest first; every one not expired signs each delivery.
        failing_since: when its deliveries started failing without a success since; None when fine.
        disabled_reason: why it was disabled, when it is (by hand, a 410, or failing too long).
    """

    id: str
    url: str
    event_types: tuple[str, ...]
    filter: Mapping[str, Any]
    owner: str
    secrets: tuple[ListenerSecret, ...]
    created_at: datetime.datetime
    enabled: bool = True
    failing_since: datetime.datetime | None = None
    disabled_reason: str | None = None

    def __post_init__(self) -> None:
        _aware("Listener.created_at", self.created_at)
        _aware("Listener.failing_since", self.failing_since)
        if not self.event_types:
            raise ValueError("a listener names at least one event type, or '*'")
        if not self.secrets:
            raise ValueError("a listener has a signing secret")

    def signing_secrets(self, now: datetime.datetime) -> list[str]:
        """The secrets that sign a delivery made at `now`: the newest, and older ones not yet expired."""
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One event to one listener: pending until delivered or failed after the last attempt."""

    id: str
    listener_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    created_at: datetime.datetime
    next_attempt_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None

    def __post_init__(self) -> None:
        if self.state not in DELIVERY_STATES:
            raise ValueError(f"Delivery.state must be one of {sorted(DELIVERY_STATES)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One delivery attempt as the delivery log shows it: an HTTP status, or the error instead."""

    delivery_id: str
    attempted_at: datetime.datetime
    status: int | None
    error: str | None
    duration_ms: float
    excerpt: str = field(default="")
