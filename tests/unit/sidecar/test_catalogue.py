"""Catalogue: which worker serves which procedure, and round-robin routing per API version."""

from __future__ import annotations

from bridge.errors import Status
from bridge.procedures import ProcedureInfo
from bridge.sidecar.catalogue import Catalogue, RouteFailure


def _catalogue(**workers: tuple[ProcedureInfo, ...]) -> Catalogue:
    catalogue = Catalogue()
    for address, infos in workers.items():
        catalogue.update(address, infos)
    return catalogue


def test_round_robin_among_workers_of_a_procedure() -> None:
    """Two workers serving `x` take turns."""
    catalogue = _catalogue(a=(ProcedureInfo("x"),), b=(ProcedureInfo("x"),))
    assert [catalogue.route("x") for _ in range(4)] == ["a", "b", "a", "b"]


def test_version_routing_rotates_only_among_workers_of_that_version() -> None:
    """Worker a serves x for v1, b for v2: /rpc/v1 always reaches a, /rpc/v2 always b (issue 7, item 4)."""
    catalogue = _catalogue(a=(ProcedureInfo("x", versions=(1,)),), b=(ProcedureInfo("x", versions=(2,)),))
    assert [catalogue.route("x", 1) for _ in range(4)] == ["a"] * 4
    assert [catalogue.route("x", 2) for _ in range(4)] == ["b"] * 4
    assert [catalogue.route("x") for _ in range(4)] == ["a", "b", "a", "b"]


def test_unversioned_worker_serves_every_version() -> None:
    """A procedure registered without versions is routable through every /rpc/vN."""
    catalogue = _catalogue(a=(ProcedureInfo("x", versions=(1,)),), b=(ProcedureInfo("x"),))
    assert [catalogue.route("x", 1) for _ in range(4)] == ["a", "b", "a", "b"]
    assert [catalogue.route("x", 3) for _ in range(2)] == ["b", "b"]


def test_version_nobody_serves_is_not_found() -> None:
    """A known procedure asked for through a version no worker serves is NOT_FOUND."""
    catalogue = _catalogue(a=(ProcedureInfo("x", versions=(1,)),))
    assert catalogue.route("x", 2) == RouteFailure(Status.NOT_FOUND, "x")


def test_unknown_procedure_is_not_found() -> None:
    """A name no worker ever described is NOT_FOUND."""
    assert _catalogue(a=(ProcedureInfo("x"),)).route("y") == RouteFailure(Status.NOT_FOUND, "y")


def test_dropped_worker_makes_its_procedure_unavailable() -> None:
    """When the only worker of a procedure stops answering, calls fail UNAVAILABLE, not NOT_FOUND."""
    catalogue = _catalogue(a=(ProcedureInfo("x"),), b=(ProcedureInfo("y"),))
    assert catalogue.drop("a")
    failure = catalogue.route("x")
    assert isinstance(failure, RouteFailure)
    assert failure.status is Status.UNAVAILABLE
    assert catalogue.route("y") == "b"
    assert not catalogue.drop("a")


def test_dropped_worker_leaves_rotation() -> None:
    """After a drop the remaining worker takes every call; after it comes back, both rotate again."""
    catalogue = _catalogue(a=(ProcedureInfo("x"),), b=(ProcedureInfo("x"),))
    catalogue.drop("a")
    assert [catalogue.route("x") for _ in range(3)] == ["b"] * 3
    catalogue.update("a", (ProcedureInfo("x"),))
    assert {catalogue.route("x") for _ in range(2)} == {"a", "b"}


def test_update_reports_change_only() -> None:
    """update is True when the worker's procedures changed, False for the same answer again."""
    catalogue = Catalogue()
    assert not catalogue.loaded
    assert catalogue.update("a", (ProcedureInfo("x"),))
    assert not catalogue.update("a", (ProcedureInfo("x"),))
    assert catalogue.update("a", (ProcedureInfo("x"), ProcedureInfo("y")))
    assert catalogue.loaded


def test_procedures_and_describe_follow_the_version() -> None:
    """procedures(v) lists what /rpc/vN can call, each described by a worker that serves that version."""
    v1 = ProcedureInfo("x", help="one", versions=(1,))
    v2 = ProcedureInfo("x", help="two", versions=(2,))
    catalogue = _catalogue(a=(v1, ProcedureInfo("only1", versions=(1,))), b=(v2,))
    assert catalogue.procedures(2) == [v2]
    assert catalogue.procedures(1) == [ProcedureInfo("only1", versions=(1,)), v1]
    assert catalogue.describe("x", 2) == v2
    assert catalogue.describe("only1", 2) is None
    assert catalogue.workers() == {"only1": ["a"], "x": ["a", "b"]}


def test_describe_follows_updates_and_drops_after_it_was_asked() -> None:
    """A descriptor once described is not kept past a change: a new one replaces it, a drop removes it."""
    catalogue = _catalogue(a=(ProcedureInfo("x", auth=False),))
    assert catalogue.describe("x") == ProcedureInfo("x", auth=False)
    catalogue.update("a", (ProcedureInfo("x", auth=True),))
    assert catalogue.describe("x") == ProcedureInfo("x", auth=True)
    catalogue.drop("a")
    assert catalogue.describe("x") is None
