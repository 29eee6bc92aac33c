"""The conformance kit's pure judgements: strict value comparison and catalogue well-formedness."""

from __future__ import annotations

import datetime
import decimal
import math

import pytest

from bridge.conformance import VALUE_KINDS, catalogue_problems, same_value
from bridge.procedures import Parameter, ProcedureInfo


@pytest.mark.parametrize(("kind", "value"), VALUE_KINDS)
def test_every_value_kind_equals_itself(kind: str, value: object) -> None:
    """Each value the kit sends is judged unchanged when it comes back as sent."""
    assert same_value(value, value), kind


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        (1, 1.0),
        (1, True),
        (b"x", "x"),
        (0.0, -0.0),
        (math.nan, 1.0),
        (decimal.Decimal("1.0"), decimal.Decimal("1.00")),
        (datetime.datetime(2026, 1, 1), datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ([1, [2]], [1, [2.0]]),
    ],
)
def test_a_changed_type_or_value_is_caught(sent: object, received: object) -> None:
    """A value that comes back as another type, precision, offset or order is not the same."""
    assert not same_value(sent, received)


def test_catalogue_problems_are_named() -> None:
    """An empty, duplicated, reserved or badly typed catalogue is reported; a good one is not."""
    good = ProcedureInfo("echo", params=(Parameter("value", "", False),))
    assert catalogue_problems([good]) == []
    assert catalogue_problems([]) == ["no procedures"]
    assert catalogue_problems([good, good]) == ["a procedure name appears twice"]
    reserved = ProcedureInfo("system.listMethods")
    assert "reserved" in catalogue_problems([reserved])[0]
    typed = ProcedureInfo("x", params=(Parameter("a", "integer", False),))
    assert catalogue_problems([typed]) == ["x: unknown type names ['integer']"]
