"""The sidecar's webhook delivery loop: claims due deliveries from the outbox, attempts them, records.

Pure of transport: attempts go through `mail_sender.send_for_listener` (a signed POST or a mail,
the standard library in a bounded thread pool), deliveries through a `DeliveryOutbox`
(`bridge.store.sql_outbox.SqlOutbox`).
Concurrency is bounded in total (`webhook_concurrency`) and per listener
(`webhook_concurrency_per_listener`), so a slow receiver holds at most its own slots.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.sidecar.mail_sender import MailServer, send_for_listener
from bridge.sidecar.webhook_sender import AttemptResult, Jitter, next_delay
from bridge.sidecar.webhook_targets import Resolver, WebhookPolicy
from bridge.store.database import utc_now
from bridge.store.interfaces import StoreError
from bridge.store.sql_outbox import AttemptOutcome, DueDelivery
from bridge.store.webhook_records import Attempt

log = logging.getLogger("rpcbridge.webhooks")

GONE = 410
RETRY_AFTER_STATUSES = frozenset({429, 503})
# Seconds a claim outlives an attempt's time limit before another sidecar may take the delivery.
LEASE_MARGIN = 30.0
STATS_INTERVAL = 5.0


class DeliveryOutbox(Protocol):
    """What the loop needs of the outbox (`SqlOutbox`)."""

    async def claim(
        self,
        runner: str,
        limit: int,
        lease_seconds: float,
        room: Callable[[str], int],
        now: datetime.datetime | None = None,
    ) -> list[DueDelivery]:
        """Claim up to `limit` due deliveries of enabled listeners that have room."""
        ...

    async def record(
        self,
        delivery: DueDelivery,
        runner: str,
        attempt: Attempt,
        outcome: AttemptOutcome,
        disable_after: float,
    ) -> bool:
        """Record an attempt and its consequences; False when the claim was lost."""
        ...

    async def release(self, runner: str) -> int:
        """Give back every delivery `runner` holds."""
        ...

    async def depth(self, now: datetime.datetime | None = None) -> tuple[int, float]:
        """Pending deliveries and the oldest one's age in seconds."""
        ...


class DeliveryMetrics(Protocol):
    """Where the loop reports (`SidecarMetrics`)."""

    def webhook_attempted(self, outcome: str, seconds: float) -> None:
        """One attempt ended: `delivered`, `retrying`, `failed` or `disabled`."""
        ...

    def webhook_outbox(self, pending: int, oldest_seconds: float) -> None:
        """The outbox's depth and the age of its oldest pending delivery."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """The settings delivery follows (`webhook_*`, docs/configuration.md)."""

    schedule: tuple[float, ...]
    timeout: float
    retry_after_max: float
    disable_after: float
    concurrency: int
    per_listener: int


def decide(result: AttemptResult, attempts_before: int, rules: DeliveryRules, rng: Jitter) -> AttemptOutcome:
    """What an attempt's result means: delivered, disable the listener (410), retry later, or failed.

    Retry-After counts only on 429 and 503; it never adds attempts (`next_delay`).
    """
    if result.succeeded:
        return AttemptOutcome(True)
    if result.status == GONE:
        return AttemptOutcome(False, None, "the receiver answered 410 Gone")
    retry_after = result.retry_after if result.status in RETRY_AFTER_STATUSES else None
    delay = next_delay(attempts_before, rules.schedule, retry_after, rules.retry_after_max, rng)
    return AttemptOutcome(False, delay)


def outcome_name(outcome: AttemptOutcome) -> str:
    """The metrics and log word for an attempt's outcome."""
    if outcome.succeeded:
        return "delivered"
    if outcome.disable_reason is not None:
        return "disabled"
    return "failed" if outcome.delay is None else "retrying"


class WebhookDelivery:
    """Runs attempts for due deliveries until stopped; `wake()` after events commit cuts the wait.

    Args:
        poll_seconds: the longest wait between looks at the outbox (retries come due on their own).
        mail: the SMTP server `mailto:` listeners are delivered through (setting `smtp_url`).
        resolver: for tests; the system resolver otherwise.
    """

    def __init__(
        self,
        outbox: DeliveryOutbox,
        policy: WebhookPolicy,
        rules: DeliveryRules,
        metrics: DeliveryMetrics | None = None,
        poll_seconds: float = 1.0,
        mail: MailServer | None = None,
        resolver: Resolver | None = None,
        rng: Jitter | None = None,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        self.runner_id = uuid.uuid4().hex
        self._outbox = outbox
        self._policy = policy
        self._rules = rules
        self._metrics = metrics
        self._poll = poll_seconds
        self._mail = mail
        self._resolver = resolver
        self._rng = rng or random.Random()
        self._clock = clock
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], str] = {}
        self._task: asyncio.Task[None] | None = None
        # Attempts block in http.client; this pool bounds how many run at once, whatever the loop does.
        self._executor = concurrent.futures.ThreadPoolExecutor(rules.concurrency, "rpcbridge-webhook")

    def wake(self) -> None:
        """Look at the outbox now (new deliveries were committed)."""
        self._wake.set()

    async def start(self) -> None:
        """Start the loop in the background."""
        self._task = asyncio.create_task(self._loop(), name="webhook-delivery")

    async def aclose(self) -> None:
        """Stop: cancel attempts in flight and give their deliveries back, due at once."""
        tasks = [t for t in (self._task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            released = await self._outbox.release(self.runner_id)
        except StoreError as exc:
            log.warning("webhook deliveries not released (their lease will lapse): %s", exc)
        else:
            if released:
                log.info("webhook deliveries released at stop: %d", released)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _room(self, listener_id: str) -> int:
        busy = sum(1 for held in self._running.values() if held == listener_id)
        return self._rules.per_listener - busy

    async def _loop(self) -> None:
        lease = self._rules.timeout + LEASE_MARGIN
        stats_due = 0.0
        while True:
            self._wake.clear()
            free = self._rules.concurrency - len(self._running)
            try:
                claimed = (
                    await self._outbox.claim(self.runner_id, free, lease, self._room) if free > 0 else []
                )
                if self._metrics is not None and time.monotonic() >= stats_due:
                    stats_due = time.monotonic() + STATS_INTERVAL
                    self._metrics.webhook_outbox(*await self._outbox.depth())
            except StoreError as exc:  # the store may be down for a while; look again later
                log.warning("webhook outbox unavailable: %s", exc)
                claimed = []
            for due in claimed:
                task = asyncio.create_task(self._deliver(due), name=f"webhook-{due.id}")
                self._running[task] = due.listener.id
                task.add_done_callback(self._finished)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook attempt crashed", exc_info=task.exception())
        self._wake.set()  # a slot is free

    async def _deliver(self, due: DueDelivery) -> None:
        """One attempt: sign, send to a checked address, decide, record, log."""
        started = self._clock()
        result = await self._attempt(due, started)
        outcome = decide(result, due.attempts, self._rules, self._rng)
        attempt = Attempt(
            delivery_id=due.id,
            attempted_at=started,
            status=result.status,
            error=result.error,
            duration_ms=result.duration * 1000,
            excerpt=result.excerpt,
        )
        name = outcome_name(outcome)
        log.info(
            "webhook attempt delivery=%s listener=%s event=%s type=%s attempt=%d status=%s error=%s"
            " duration_ms=%.1f outcome=%s next_in=%s",
            due.id,
            due.listener.id,
            due.event.id,
            due.event.type,
            due.attempts + 1,
            result.status if result.status is not None else "-",
            result.error or "-",
            attempt.duration_ms,
            name,
            "-" if outcome.delay is None else f"{outcome.delay:.1f}s",
        )
        if self._metrics is not None:
            self._metrics.webhook_attempted(name, result.duration)
        try:
            if not await self._outbox.record(
                due, self.runner_id, attempt, outcome, self._rules.disable_after
            ):
                log.warning("webhook delivery %s: claim lost before the attempt was recorded", due.id)
        except StoreError as exc:  # the lease lapses and the delivery is attempted again: at least once
            log.warning("webhook delivery %s: attempt not recorded: %s", due.id, exc)

    async def _attempt(self, due: DueDelivery, now: datetime.datetime) -> AttemptResult:
        return await send_for_listener(
            due.listener,
            due.event,
            policy=self._policy,
            mail=self._mail,
            time_limit=self._rules.timeout,
            now=now,
            resolver=self._resolver,
            executor=self._executor,
        )


def poll_interval(schedule: Sequence[float]) -> float:
    """How often to look at the outbox: every second, or more often for a schedule of short delays."""
    shortest = min((delay for delay in schedule if delay > 0), default=1.0)
    return max(0.05, min(1.0, shortest / 2))
