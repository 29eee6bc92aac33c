"""What the admin console needs from the sidecar: its stores and its procedure catalogue.

Imports only the store seams and procedure descriptors; no aiohttp, no grpc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.procedures import ProcedureInfo
from bridge.store.interfaces import AdminStore, CallLogStore, UserStore


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
        frontend_url: where browsers reach a frontend (`frontend_public_url`), for the live
            events page; empty turns the page's live view off.
    """

    users: UserStore
    call_log: CallLogStore
    admin: AdminStore
    workers: Callable[[], dict[str, list[str]]]
    describe: Callable[[str], ProcedureInfo | None]
    session_key: bytes | None = None
    frontend_url: str = ""
