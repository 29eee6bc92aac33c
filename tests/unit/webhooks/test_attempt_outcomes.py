"""What an attempt means for its delivery: delivered, retried (Retry-After on 429/503 only), 410, failed."""

from __future__ import annotations

import random

import pytest

from bridge.sidecar.webhook_delivery import DeliveryRules, decide, outcome_name, poll_interval
from bridge.sidecar.webhook_sender import AttemptResult
from bridge.store.sql_outbox import AttemptOutcome

RULES = DeliveryRules(
    schedule=(5.0, 300.0),
    timeout=10.0,
    retry_after_max=3600.0,
    disable_after=86400.0,
    concurrency=4,
    per_listener=2,
)


class NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return 1.0


def result(status: int | None, retry_after: float | None = None, error: str | None = None) -> AttemptResult:
    return AttemptResult(status, error, retry_after, "", 0.01)


@pytest.mark.parametrize(
    ("attempt", "attempts_before", "expected"),
    [
        (result(200), 0, AttemptOutcome(True)),
        (result(204), 2, AttemptOutcome(True)),
        (result(500), 0, AttemptOutcome(False, 5.0)),
        (result(500), 1, AttemptOutcome(False, 300.0)),
        (result(500), 2, AttemptOutcome(False, None)),
        (result(302), 0, AttemptOutcome(False, 5.0)),
        (result(None, error="connection refused"), 0, AttemptOutcome(False, 5.0)),
        (result(429, retry_after=60), 0, AttemptOutcome(False, 60.0)),
        (result(503, retry_after=1), 1, AttemptOutcome(False, 300.0)),
        (result(503, retry_after=99999), 0, AttemptOutcome(False, 3600.0)),
        (result(500, retry_after=60), 0, AttemptOutcome(False, 5.0)),
        (result(429, retry_after=60), 2, AttemptOutcome(False, None)),
        (result(410), 0, AttemptOutcome(False, None, "the receiver answered 410 Gone")),
    ],
)
def test_decide(attempt: AttemptResult, attempts_before: int, expected: AttemptOutcome) -> None:
    """2xx delivers; 410 disables; Retry-After counts on 429/503 only, capped, never adding attempts."""
    assert decide(attempt, attempts_before, RULES, NoJitter()) == expected


def test_outcome_names_and_poll_interval() -> None:
    """Outcomes have one word each; short schedules poll more often, never below 50 ms or above 1 s."""
    assert [
        outcome_name(o) for o in (AttemptOutcome(True), AttemptOutcome(False, 1.0), AttemptOutcome(False))
    ] == [
        "delivered",
        "retrying",
        "failed",
    ]
    assert outcome_name(AttemptOutcome(False, None, "gone")) == "disabled"
    assert poll_interval((5.0, 300.0)) == 1.0
    assert poll_interval((0.2, 0.2)) == pytest.approx(0.1)
    assert poll_interval((0.0, 0.01)) == 0.05
    assert poll_interval(()) == 0.5
