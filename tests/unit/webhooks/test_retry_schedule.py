"""When a failed delivery is tried again: the schedule with jitter, Retry-After within its cap."""

from __future__ import annotations

import datetime
import random

import pytest

from bridge.sidecar.webhook_sender import DEFAULT_RETRY_SCHEDULE, next_delay, parse_retry_after

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


class Fixed:
    """A random source that always answers one end of the interval."""

    def __init__(self, end: int) -> None:
        self.end = end

    def uniform(self, a: float, b: float) -> float:
        return (a, b)[self.end]


LOW, HIGH = Fixed(0), Fixed(1)


def test_default_schedule_is_the_documented_one() -> None:
    """5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: seven retries after the first attempt."""
    assert DEFAULT_RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)


@pytest.mark.parametrize("index", range(len(DEFAULT_RETRY_SCHEDULE)))
def test_delays_follow_the_schedule_within_twenty_percent(index: int) -> None:
    """The delay after attempt i is schedule[i] times a factor between 0.8 and 1.2."""
    scheduled = DEFAULT_RETRY_SCHEDULE[index]
    assert next_delay(index, DEFAULT_RETRY_SCHEDULE, None, 3600, LOW) == pytest.approx(scheduled * 0.8)
    assert next_delay(index, DEFAULT_RETRY_SCHEDULE, None, 3600, HIGH) == pytest.approx(scheduled * 1.2)
    rng = random.Random(index)
    for _ in range(100):
        delay = next_delay(index, DEFAULT_RETRY_SCHEDULE, None, 3600, rng)
        assert delay is not None and scheduled * 0.8 <= delay <= scheduled * 1.2


def test_no_delay_after_the_last_attempt() -> None:
    """After the last scheduled retry there is none, Retry-After or not."""
    last = len(DEFAULT_RETRY_SCHEDULE)
    assert next_delay(last, DEFAULT_RETRY_SCHEDULE, None, 3600, LOW) is None
    assert next_delay(last, DEFAULT_RETRY_SCHEDULE, 60, 3600, LOW) is None
    assert next_delay(0, [], None, 3600, LOW) is None
    assert next_delay(-1, DEFAULT_RETRY_SCHEDULE, None, 3600, LOW) is None


@pytest.mark.parametrize(
    ("index", "retry_after", "expected"),
    [
        (0, 120, 120),  # the receiver asked for longer than the 5 s scheduled: it gets it
        (0, 1, 4),  # a shorter Retry-After never makes the wait shorter than the schedule
        (0, 86400, 3600),  # a Retry-After beyond the cap waits the cap
        (3, 86400, 7200 * 0.8),  # a scheduled delay beyond the cap is not shortened
        (1, 0, 240),
    ],
)
def test_retry_after_is_honoured_within_the_cap(index: int, retry_after: float, expected: float) -> None:
    """The wait is max(scheduled, min(Retry-After, cap))."""
    assert next_delay(index, DEFAULT_RETRY_SCHEDULE, retry_after, 3600, LOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Tue, 01 Dec 2026 12:30:00 GMT", 1800.0),
        ("Tuesday, 01-Dec-26 12:30:00 GMT", 1800.0),  # RFC 850, which RFC 9110 asks recipients to accept
        ("Tue Dec  1 12:30:00 2026", 1800.0),  # asctime
        ("Tue, 01 Dec 2026 11:00:00 GMT", 0.0),  # a date in the past means "now"
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    """Retry-After is delay-seconds or an HTTP-date (RFC 9110 section 10.2.3); anything else is None."""
    assert parse_retry_after(header, NOW) == seconds
