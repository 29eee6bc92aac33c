"""The store seams (`typing.Protocol`s) and the exceptions every store implementation raises.

Imports only `bridge.errors` and `bridge.store.records`. Implementations do not inherit from
these Protocols; tests pass small fakes. The exception tree:

    BridgeError
     └── StoreError                 a store could not do what was asked
          ├── StoreUnavailable      the backend is unreachable or failing (translated driver errors)
          │    └── NonceStoreUnavailable   the nonce cache cannot be reached: authentication fails closed
          ├── SchemaError           the database schema is newer than this rpcbridge, or undecryptable keys
          ├── DuplicateUserError    `add_user` with a name that exists
          ├── UnknownUserError      an operation on a name that does not exist
          └── InvalidUserError      a username, key or scope pattern that cannot be stored
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from typing import Protocol

from bridge.errors import BridgeError
from bridge.events.model import Event
from bridge.store.records import ActiveUser, CallFilter, CallPage, CallRecord, CallStats, Job, JobFault, User
from bridge.store.webhook_records import Attempt, Delivery, Listener


class StoreError(BridgeError):
    """Root of store failures; messages never hold a key, a password or a database password."""


class StoreUnavailable(StoreError):
    """The backend (database, Redis) is unreachable or failed; retrying later may succeed."""


class NonceStoreUnavailable(StoreUnavailable):
    """The nonce cache cannot be reached, so no nonce can be claimed and auth must fail closed."""


class SchemaError(StoreError):
    """The stored data cannot be used by this version or configuration of rpcbridge."""


class DuplicateUserError(StoreError):
    """A user with this name already exists."""


class UnknownUserError(StoreError):
    """No user has this name."""


class InvalidUserError(StoreError, ValueError):
    """A username, API key or scope pattern was refused; the message says why, never the key."""


class UserStore(Protocol):
    """API users and their keys; reads go to the backend each time, so other processes' changes show."""

    async def add_user(self, username: str, key: str | None = None, scopes: Sequence[str] = ()) -> str:
        """Create an enabled user and return its API key (a new random one when `key` is None)."""
        ...

    async def get(self, username: str) -> User | None:
        """The user with this name, or None."""
        ...

    async def active_keys(self, username: str) -> list[str]:
        """The user's unrevoked API keys in plain text, oldest first (empty for unknown users)."""
        ...

    async def active_keys_by_id(self, username: str) -> list[tuple[int, str]]:
        """The user's unrevoked API keys with their ids, oldest first (empty for unknown users)."""
        ...

    async def active_credentials(self) -> dict[str, ActiveUser]:
        """Every enabled user's scopes and active key ids."""
        ...

    async def list_users(self) -> list[User]:
        """Every user, ordered by name."""
        ...

    async def set_enabled(self, username: str, enabled: bool) -> None:
        """Enable or disable a user; a disabled user cannot authenticate."""
        ...

    async def set_scopes(self, username: str, scopes: Sequence[str]) -> None:
        """Replace the user's procedure patterns; empty allows every procedure."""
        ...

    async def delete_user(self, username: str) -> None:
        """Remove the user and all its keys; the call log keeps the name in past rows."""
        ...

    async def rotate_key(self, username: str, key: str | None = None) -> str:
        """Add a new active key and return it; older keys stay active until revoked."""
        ...

    async def revoke_keys(self, username: str, keep_newest: int = 1) -> int:
        """Revoke all but the `keep_newest` newest active keys; return how many were revoked."""
        ...


class NonceStore(Protocol):
    """Remembers nonces per user so that a signed request cannot be replayed inside the window."""

    async def claim(self, username: str, nonce: str, ttl_seconds: int, scope: str = "") -> bool:
        """Record the nonce for `ttl_seconds`; False when it was already recorded (a replay).

        A repeated claim with the same non-empty `scope` (one HTTP request) succeeds.

        Raises NonceStoreUnavailable when the cache cannot be reached.
        """
        ...


class CallLogSink(Protocol):
    """Where `CallLogWriter` puts batches: the one method of `CallLogStore` it needs."""

    async def write_many(self, records: Sequence[CallRecord]) -> None:
        """Store the records atomically (all or none); their `id` fields are ignored."""
        ...


class CallLogStore(CallLogSink, Protocol):
    """Durable storage of the call log: batches in (`write_many`), queries for the admin UI out."""

    async def query(self, filters: CallFilter, limit: int = 50, offset: int = 0) -> CallPage:
        """One page of matching records, newest first, with the total number of matches."""
        ...

    async def get(self, record_id: int) -> CallRecord | None:
        """The record with this id, or None."""
        ...

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        """Delete records that started more than `days` before `now`; return how many."""
        ...

    async def stats(
        self, since: datetime.datetime, until: datetime.datetime, bucket_seconds: int, top: int = 10
    ) -> CallStats:
        """Incoming traffic over [since, until) by `bucket_seconds`, and its `top` procedures and faults."""
        ...


class AdminStore(Protocol):
    """The admin UI's password hash (hashing lives in `bridge.auth.passwords`) and logged-out sessions."""

    async def get_password_hash(self) -> str | None:
        """The stored hash, or None when no admin password has been set."""
        ...

    async def set_password_hash(self, password_hash: str) -> None:
        """Store (replace) the hash."""
        ...

    async def revoke_session(self, session_id: str, expires_at: datetime.datetime) -> None:
        """Refuse this session on every sidecar until `expires_at`, when its cookie expires anyway."""
        ...

    async def session_revoked(self, session_id: str) -> bool:
        """True when the session was logged out."""
        ...


class JobStore(Protocol):
    """Background jobs: accepted, claimed by one runner at a time, finished once (docs/jobs.md).

    A runner (one per sidecar process, named by a random id) claims a job for a lease; only the
    holder of the claim can finish it or put it back. A claim whose lease ran out (its sidecar
    died) can be taken by any runner, so every accepted job runs at least once.
    """

    async def add(self, job: Job) -> None:
        """Store a new job; it is committed when this returns."""
        ...

    async def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        ...

    async def claim(
        self, runner: str, limit: int, lease_seconds: float, now: datetime.datetime | None = None
    ) -> list[Job]:
        """Mark up to `limit` runnable jobs (queued and due, or running with a lapsed lease) as running.

        Oldest first; `attempts` goes up by one and `started_at` becomes `now` for each.
        """
        ...

    async def finish(
        self,
        job_id: str,
        runner: str,
        response: bytes,
        fault: JobFault | None = None,
        now: datetime.datetime | None = None,
    ) -> bool:
        """Record how a claimed job ended, with its `job.succeeded` or `job.failed` event.

        The state change and the event (and its webhook deliveries) commit together. False when
        `runner` no longer holds the claim (its lease ran out and another runner took the job).
        """
        ...

    async def retry(
        self, job_id: str, runner: str, delay: float, now: datetime.datetime | None = None
    ) -> bool:
        """Put a claimed job back in the queue, runnable `delay` seconds from now; False as `finish`."""
        ...

    async def renew(
        self,
        runner: str,
        job_ids: Collection[str],
        lease_seconds: float,
        now: datetime.datetime | None = None,
    ) -> int:
        """Extend the leases of these jobs that `runner` still holds to `lease_seconds` from now; how many."""
        ...

    async def release(self, runner: str, now: datetime.datetime | None = None) -> int:
        """Put every job `runner` holds back in the queue, runnable at once (a graceful stop)."""
        ...

    async def expire_queued(
        self, days: float, response: bytes, fault: JobFault, now: datetime.datetime | None = None
    ) -> int:
        """Fail the jobs still queued `days` after they were accepted (with events); return how many."""
        ...

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        """Delete jobs finished more than `days` before `now`; return how many."""
        ...


class EventStore(Protocol):
    """Events committed with their webhook deliveries, in commit order (offsets), for cursors to follow."""

    async def commit(self, events: Sequence[Event]) -> list[Event]:
        """Write the events and one delivery per matching enabled listener in one transaction.

        Returns the events with their `offset`s, each greater than that of every event committed
        before it; then tells live subscribers (the store's `publish`).
        """
        ...

    async def list_since(self, after: int = 0, limit: int = 100) -> list[Event]:
        """Up to `limit` events whose offset is greater than `after`, in offset order."""
        ...

    async def list_recent(self, limit: int = 100) -> list[Event]:
        """The newest `limit` events, newest first."""
        ...

    async def get(self, event_id: str) -> Event | None:
        """The event with this `evt_` id, or None."""
        ...

    async def purge_older_than(self, days: float, now: datetime.datetime | None = None) -> int:
        """Delete events older than `days` with their deliveries and attempts; return how many events."""
        ...


class ListenerStore(Protocol):
    """Webhook listeners and their delivery logs (docs/events.md).

    `owner` limits an operation to that owner's listeners: an API user sees, changes and
    redelivers only their own, and another user's listener is as if it did not exist. None is
    the operator (CLI, admin UI), who sees every listener.
    """

    async def add(self, listener: Listener) -> None:
        """Store a new listener whose URL and filter were checked (`bridge.sidecar.webhook_targets`)."""
        ...

    async def get(self, listener_id: str, owner: str | None = None) -> Listener | None:
        """The listener with this id, or None."""
        ...

    async def list_listeners(self, owner: str | None = None) -> list[Listener]:
        """Every listener, oldest first."""
        ...

    async def remove(self, listener_id: str, owner: str | None = None) -> bool:
        """Delete a listener with its deliveries; False when there is no such listener."""
        ...

    async def set_enabled(
        self, listener_id: str, enabled: bool, reason: str | None = None, owner: str | None = None
    ) -> bool:
        """Enable (clearing its failure streak) or disable a listener; False when there is none."""
        ...

    async def rotate_secret(
        self,
        listener_id: str,
        secret: str,
        overlap_seconds: float,
        owner: str | None = None,
        now: datetime.datetime | None = None,
    ) -> bool:
        """Make `secret` the newest; older ones keep signing for `overlap_seconds` (a setting)."""
        ...

    async def deliveries(
        self,
        listener_id: str | None = None,
        failed_only: bool = False,
        owner: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """The newest deliveries, newest first."""
        ...

    async def get_delivery(self, delivery_id: str, owner: str | None = None) -> Delivery | None:
        """One delivery, or None."""
        ...

    async def attempts(self, delivery_id: str) -> list[Attempt]:
        """Every attempt of a delivery, oldest first (time, status or error, duration, excerpt)."""
        ...

    async def redeliver(
        self, delivery_id: str, owner: str | None = None, now: datetime.datetime | None = None
    ) -> bool:
        """Queue a delivery again, due now, with a fresh retry schedule and the same webhook-id."""
        ...

    async def redeliver_failed_since(
        self,
        listener_id: str,
        since: datetime.datetime,
        owner: str | None = None,
        now: datetime.datetime | None = None,
    ) -> int:
        """Queue again every failed delivery of a listener created since `since`; return how many."""
        ...
