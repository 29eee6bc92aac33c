"""What the sidecar and the frontend exchange for realtime: streamed events, control, history pages.

Pure data (docs/realtime.md); the gRPC mapping lives in `bridge.rpc.realtime_*`. Must not import
grpc, aiohttp or a store.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass


def scopes_allow(scopes: Sequence[str], name: str) -> bool:
    """True when `name` (a procedure or an event type) matches a pattern (fnmatch), or there are none."""
    return not scopes or any(fnmatch.fnmatchcase(name, pattern) for pattern in scopes)


@dataclass(frozen=True, slots=True)
class StreamedEvent:
    """A committed event with its offset in the deployment-wide history; `data_json` is a JSON object."""

    id: str
    type: str
    offset: int
    data_json: bytes
    auth: bool = False


@dataclass(frozen=True, slots=True)
class SocketControl:
    """Close the sockets of `user` that authenticated with `key_id` (0: all of the user's sockets)."""

    user: str
    key_id: int = 0
    reason: str = ""

    def applies_to(self, user: str, key_id: int) -> bool:
        """True when a socket of `user` authenticated with `key_id` must close."""
        return user == self.user and self.key_id in (0, key_id)


@dataclass(frozen=True, slots=True)
class StreamHello:
    """The first item of every event stream: the history's epoch and its newest offset."""

    epoch: str
    offset: int


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Events after an offset; `reaches_back` is False when some of them are no longer kept."""

    epoch: str
    reaches_back: bool
    offset: int
    events: tuple[StreamedEvent, ...]


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    """The user a sidecar vouched for on one socket, and the token that proves it on later calls."""

    token: str
    user: str
    key_id: int
    scopes: tuple[str, ...]

    def allows(self, event_type: str) -> bool:
        """True when the user's scopes let it receive events of an auth=True hook of this type."""
        return scopes_allow(self.scopes, event_type)


StreamItem = StreamHello | StreamedEvent | SocketControl
"""One item of the sidecar's event stream."""
