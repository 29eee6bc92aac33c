"""Fault texts say their reason once, whatever the sidecar put in a status's detail."""

from __future__ import annotations

import pytest

from bridge.errors import Status
from bridge.faults import fault_for_status
from bridge.protocols import xmlrpc


@pytest.mark.parametrize(
    ("detail", "data", "fault_string"),
    [
        ("Unauthenticated", None, "Unauthenticated"),
        (
            "Unauthenticated: authentication temporarily unavailable",
            "authentication temporarily unavailable",
            "Unauthenticated: authentication temporarily unavailable",
        ),
        ("", None, "Unauthenticated"),
    ],
)
def test_status_detail_does_not_repeat_the_standard_message(
    detail: str, data: str | None, fault_string: str
) -> None:
    """UNAUTHENTICATED with the sidecar's detail reads "Unauthenticated" once, never twice."""
    failure = fault_for_status(Status.UNAUTHENTICATED, detail)
    assert (failure.code, failure.message, failure.data) == (-32001, "Unauthenticated", data)
    body = xmlrpc.encode_outcome(failure)
    assert f"<string>{fault_string}</string>".encode() in body


def test_other_details_are_kept_whole() -> None:
    """A detail that merely mentions the words is not cut."""
    failure = fault_for_status(Status.UNAVAILABLE, "no worker serves echo")
    assert failure.data == "no worker serves echo"
