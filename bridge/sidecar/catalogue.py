"""The procedure catalogue: which worker serves which procedure, round-robin routing, and the hooks
(event types) the workers declare.

Pure; no grpc. The worker pool feeds it each worker's `ListProcedures` answer and takes a
worker out when it stops answering.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bridge.errors import Status
from bridge.procedures import HookInfo, ProcedureInfo

_DESCRIBED_KEPT = 4096


@dataclass(frozen=True, slots=True)
class RouteFailure:
    """Why a call cannot be routed: NOT_FOUND (no such procedure) or UNAVAILABLE (no live worker)."""

    status: Status
    detail: str


class Catalogue:
    """Procedures by name, each with the live workers that serve it."""

    def __init__(self) -> None:
        self._by_worker: dict[str, dict[str, ProcedureInfo]] = {}
        self._hooks_by_worker: dict[str, dict[str, HookInfo]] = {}
        self._hooks: dict[str, HookInfo] = {}
        self._known: set[str] = set()
        self._routes: dict[str, tuple[str, ...]] = {}
        # One cursor per (procedure, API version) asked for, so that each version rotates only
        # among the workers that serve it (a rolling upgrade runs v1 and v2 workers side by side).
        self._cursors: dict[tuple[str, int], Iterator[str]] = {}
        # describe() runs for every call (auth, jobs); its answers for routable procedures are
        # kept until the catalogue changes. Bounded: the version is the client's to choose.
        self._described: dict[tuple[str, int], ProcedureInfo] = {}

    def update(
        self, address: str, procedures: Sequence[ProcedureInfo], hooks: Sequence[HookInfo] = ()
    ) -> bool:
        """Record what a live worker serves and the hooks it declares; True when that changed anything."""
        described = {p.name: p for p in procedures}
        declared = {h.name: h for h in hooks}
        if self._by_worker.get(address) == described and self._hooks_by_worker.get(address) == declared:
            return False
        self._by_worker[address] = described
        self._hooks_by_worker[address] = declared
        self._known.update(described)
        self._rebuild()
        return True

    def drop(self, address: str) -> bool:
        """Take a worker out of routing (it stopped answering); True when it was in."""
        self._hooks_by_worker.pop(address, None)
        if self._by_worker.pop(address, None) is None:
            return False
        self._rebuild()
        return True

    def hook(self, name: str) -> HookInfo | None:
        """The hook declared as `name` by a live worker (the first in address order), or None."""
        return self._hooks.get(name)

    def hooks(self) -> list[HookInfo]:
        """Every hook live workers declare, sorted by name."""
        return [self._hooks[name] for name in sorted(self._hooks)]

    def _rebuild(self) -> None:
        routes: dict[str, list[str]] = {}
        for address in sorted(self._by_worker):
            for name in self._by_worker[address]:
                routes.setdefault(name, []).append(address)
        self._routes = {name: tuple(addresses) for name, addresses in routes.items()}
        self._cursors = {}
        hooks: dict[str, HookInfo] = {}
        for address in sorted(self._hooks_by_worker):
            for name, info in self._hooks_by_worker[address].items():
                hooks.setdefault(name, info)
        self._hooks = hooks
        self._described = {}

    def _serving(self, procedure: str, api_version: int) -> tuple[str, ...]:
        """The live workers that serve `procedure` for `api_version` (0 = unversioned)."""
        return tuple(
            address
            for address in self._routes.get(procedure, ())
            if self._by_worker[address][procedure].serves_version(api_version)
        )

    def route(self, procedure: str, api_version: int = 0) -> str | RouteFailure:
        """The next worker (round-robin among those serving this version) for a call, or why there is none."""
        key = (procedure, api_version)
        cursor = self._cursors.get(key)
        if cursor is None:
            addresses = self._serving(procedure, api_version)
            if not addresses:
                if procedure in self._routes:
                    return RouteFailure(Status.NOT_FOUND, procedure)
                if procedure in self._known:
                    return RouteFailure(Status.UNAVAILABLE, f"no live worker serves {procedure!r}")
                return RouteFailure(Status.NOT_FOUND, procedure)
            cursor = self._cursors[key] = itertools.cycle(addresses)
        return next(cursor)

    def describe(self, procedure: str, api_version: int = 0) -> ProcedureInfo | None:
        """The descriptor of a procedure routable for `api_version` (from the first worker serving it)."""
        key = (procedure, api_version)
        info = self._described.get(key)
        if info is not None:
            return info
        addresses = self._serving(procedure, api_version)
        if not addresses:
            return None
        info = self._by_worker[addresses[0]][procedure]
        if len(self._described) < _DESCRIBED_KEPT:
            self._described[key] = info
        return info

    def procedures(self, api_version: int = 0) -> list[ProcedureInfo]:
        """Every routable procedure visible to `api_version`, sorted by name."""
        infos = (self.describe(name, api_version) for name in sorted(self._routes))
        return [info for info in infos if info is not None]

    def workers(self) -> dict[str, list[str]]:
        """Worker addresses by procedure name, for the admin view."""
        return {name: list(addresses) for name, addresses in sorted(self._routes.items())}

    @property
    def loaded(self) -> bool:
        """True once at least one worker has described its procedures."""
        return bool(self._routes)
