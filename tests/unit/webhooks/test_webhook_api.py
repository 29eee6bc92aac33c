"""system.webhooks.* answers and argument shapes: pure functions of webhook_api."""

from __future__ import annotations

import datetime

import pytest

from bridge.calls import Call
from bridge.sidecar.webhook_api import arguments_of, describe_delivery
from bridge.store.webhook_records import Attempt, Delivery

T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def test_deliveries_answer_lists_every_attempt_with_status_or_error() -> None:
    """Each attempt shows its time, its HTTP status or (without one) the error, duration and excerpt."""
    delivery = Delivery(
        id="dlv_1", listener_id="lst_1", event_id="evt_1", event_type="person.saved",
        state="pending", attempts=2, created_at=T0, next_attempt_at=T0 + datetime.timedelta(minutes=5),
    )  # fmt: skip
    attempts = [
        Attempt(delivery_id="dlv_1", attempted_at=T0, status=None, error="refused", duration_ms=3.2),
        Attempt(
            delivery_id="dlv_1", attempted_at=T0, status=503, error=None, duration_ms=40.0, excerpt="busy"
        ),
    ]
    answer = describe_delivery(delivery, attempts)
    assert answer["id"] == "dlv_1" and answer["event"] == "evt_1" and answer["type"] == "person.saved"
    assert answer["created"] == "2026-12-01T12:00:00+00:00" and answer["finished"] is None
    assert answer["attempts"] == [
        {"time": "2026-12-01T12:00:00+00:00", "status": None, "error": "refused",
         "duration_ms": 3.2, "excerpt": ""},
        {"time": "2026-12-01T12:00:00+00:00", "status": 503, "error": None, "duration_ms": 40.0,
         "excerpt": "busy"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (Call("system.webhooks.add", ["https://x.example/", ["*"], {}]), ["https://x.example/", ["*"], {}]),
        (Call("system.webhooks.add", ["https://x.example/", ["*"]]), ["https://x.example/", ["*"]]),
        (Call("system.webhooks.add", named={"events": [], "url": "u"}), ["u", []]),
        (Call("system.webhooks.list", []), []),
        (Call("system.webhooks.remove", ["lst_1"]), ["lst_1"]),
    ],
)
def test_arguments_positional_or_by_name(call: Call, expected: list[object]) -> None:
    """Arguments come in order; by name they are put in the positional order; add's match is optional."""
    assert arguments_of(call) == expected


@pytest.mark.parametrize(
    "call",
    [
        Call("system.webhooks.add", ["https://x.example/"]),
        Call("system.webhooks.list", ["extra"]),
        Call("system.webhooks.remove", []),
        Call("system.webhooks.redeliver", named={"id": "dlv_1"}),
    ],
)
def test_wrong_arguments_are_refused(call: Call) -> None:
    """A wrong count or an unknown name is a ValueError (answered as -32602 Invalid params)."""
    with pytest.raises(ValueError, match=r"system\.webhooks"):
        arguments_of(call)
