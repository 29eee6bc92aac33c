"""`bridge.Fault`: raisable by procedure authors, yet an immutable value compared by its fields."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import pytest

from bridge import Fault
from bridge.errors import BridgeError, FaultValue


def test_a_fault_is_raised_and_caught_as_procedure_authors_write_it() -> None:
    with pytest.raises(Fault) as caught:
        raise Fault(4, "no such user")
    assert (caught.value.code, caught.value.message, caught.value.data) == (4, "no such user", None)
    assert isinstance(caught.value, BridgeError)


def test_its_fields_are_read_only() -> None:
    fault = Fault(4, "no such user", {"id": 7})
    with pytest.raises(AttributeError):
        fault.code = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fault.value.message = "changed"  # type: ignore[misc]


def test_faults_compare_by_value_and_round_trip_through_their_value() -> None:
    fault = Fault(4, "no", ["detail"])
    assert fault == Fault(4, "no", ["detail"]) != Fault(4, "no")
    assert fault.value == FaultValue(4, "no", ["detail"])
    assert Fault.of(fault.value) == fault
    assert hash(Fault(4, "no", ["a"])) == hash(Fault(4, "no", ["b"]))


def test_a_fault_survives_a_context_manager_reraising_it() -> None:
    """contextlib assigns __traceback__ on the way out: why Fault is not a frozen dataclass itself."""

    @contextlib.contextmanager
    def passing() -> Iterator[None]:
        yield

    with pytest.raises(Fault), passing():
        raise Fault(1, "x")
