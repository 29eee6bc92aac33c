"""The values stores hold and hand back: `User`, `CallRecord`, the call-log query types, `Job`.

Pure data with validation; imports only the standard library, `bridge.errors` and `bridge.events`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from bridge.events.realtime import scopes_allow

INCOMING: Final = "incoming"
OUTGOING: Final = "outgoing"
DIRECTIONS: Final = frozenset({INCOMING, OUTGOING})

OK: Final = "ok"
FAULT: Final = "fault"
ERROR: Final = "error"
OUTCOMES: Final = frozenset({OK, FAULT, ERROR})

# Usernames travel inside `Credential=<user>,` and `nonce;timestamp;username`, so they must not
# contain separators, whitespace or control characters; this ASCII set avoids all of them.
USERNAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
MAX_KEY_LENGTH: Final = 1024


@dataclass(frozen=True, slots=True)
class User:
    """An API user; `scopes` are fnmatch-style procedure patterns, empty meaning every procedure."""

    username: str
    enabled: bool
    scopes: tuple[str, ...]
    created_at: datetime.datetime

    def __str__(self) -> str:
        return self.username

    def allows(self, procedure: str) -> bool:
        """True when `procedure` matches one of the scopes (case-sensitively), or there are none."""
        return scopes_allow(self.scopes, procedure)


@dataclass(frozen=True, slots=True)
class ActiveUser:
    """An enabled user's scopes and the ids of its active API keys."""

    scopes: tuple[str, ...]
    key_ids: frozenset[int]


def check_username(username: str) -> str:
    """Return `username` if it is acceptable for a new user, else raise ValueError saying why."""
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        raise ValueError(
            f"invalid username {username!r}: use 1-128 characters from A-Z a-z 0-9 . _ @ + -, "
            "starting with a letter or digit"
        )
    return username


def check_key(key: str) -> str:
    """Return `key` if it can serve as an API key, else raise ValueError (without echoing it)."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"an API key must be a non-empty string of at most {MAX_KEY_LENGTH} characters")
    if key != key.strip() or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ValueError("an API key must not contain whitespace at its ends or control characters")
    return key


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """Return scopes as a tuple if every pattern is a non-empty string, else raise ValueError."""
    if isinstance(scopes, str):
        raise ValueError("scopes must be a sequence of patterns, not one string")
    result = tuple(scopes)
    for pattern in result:
        if not isinstance(pattern, str) or not pattern.strip() or pattern != pattern.strip():
            raise ValueError(f"invalid scope pattern {pattern!r}")
    return result


# Arguments and results in a call record are text, cut to this length (setting `log_arguments`).
MAX_PAYLOAD_TEXT: Final = 2000
REDACTED: Final = "[redacted]"


def truncate(text: str, limit: int = MAX_PAYLOAD_TEXT) -> str:
    """Cut long text, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One entry of the call log.

    Args:
        at: when the call started, timezone-aware.
        direction: "incoming" (a client called the bridge) or "outgoing" (the legacy adapter
            called an old server).
        outcome: "ok", "fault" (an application or bridge fault, `fault_code` set) or "error"
            (transport, deadline or routing failure, `status` holding the gRPC status name).
        arguments, result: text already truncated and redacted by the caller, or None.
        id: assigned by the store; None before the record is written.
    """

    at: datetime.datetime
    direction: str
    protocol: str
    procedure: str
    outcome: str
    duration_ms: float
    user: str = ""
    peer: str = ""
    request_id: str = ""
    fault_code: int | None = None
    status: str = ""
    trace_id: str = ""
    request_bytes: int = 0
    response_bytes: int = 0
    arguments: str | None = None
    result: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("CallRecord.at must be timezone-aware")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"CallRecord.direction must be one of {sorted(DIRECTIONS)}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"CallRecord.outcome must be one of {sorted(OUTCOMES)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFilter:
    """Conditions for a call-log query; None means "any". `since` is inclusive, `until` exclusive.

    `procedure`, `user`, `request_id` and `trace_id` match exactly (case-sensitively, alike in every store).
    """

    procedure: str | None = None
    user: str | None = None
    outcome: str | None = None
    direction: str | None = None
    request_id: str | None = None
    trace_id: str | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"CallFilter.{name} must be timezone-aware")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise ValueError(f"CallFilter.outcome must be one of {sorted(OUTCOMES)}")
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise ValueError(f"CallFilter.direction must be one of {sorted(DIRECTIONS)}")


@dataclass(frozen=True, slots=True)
class CallPage:
    """One page of a call-log query, newest first, with the number of matches over all pages."""

    records: tuple[CallRecord, ...]
    total: int


@dataclass(frozen=True, slots=True)
class TrafficBucket:
    """Incoming calls started in one time bucket: counts by outcome, nearest-rank latency percentiles."""

    start: datetime.datetime
    ok: int = 0
    fault: int = 0
    error: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def calls(self) -> int:
        """Every call of the bucket, whatever its outcome."""
        return self.ok + self.fault + self.error


@dataclass(frozen=True, slots=True)
class FaultCount:
    """How many incoming calls ended in one fault code ("fault") or one gRPC status ("error")."""

    outcome: str
    fault_code: int | None
    status: str
    calls: int


@dataclass(frozen=True, slots=True)
class CallStats:
    """The call log's incoming traffic over [since, until): every bucket (empty ones too), the
    busiest procedures and the commonest faults, for the admin overview."""

    since: datetime.datetime
    until: datetime.datetime
    bucket_seconds: int
    buckets: tuple[TrafficBucket, ...]
    busiest: tuple[tuple[str, int], ...]
    faults: tuple[FaultCount, ...]

    @property
    def calls(self) -> int:
        """Every call of the window."""
        return sum(bucket.calls for bucket in self.buckets)


QUEUED: Final = "queued"
RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
JOB_STATES: Final = frozenset({QUEUED, RUNNING, SUCCEEDED, FAILED})
FINISHED_STATES: Final = frozenset({SUCCEEDED, FAILED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One background job: the call to run, who started it, and how it ended (docs/jobs.md).

    Args:
        request: the serialized InvokeRequest, auth params already taken out.
        user: the authenticated caller who started it; "" for a job anyone holding its id may see.
        forward_metadata: metadata interceptors added for the worker, sent again on every run.
        started_at: when the latest run started; None while it never ran.
        attempts: how many runs have started (a run cut short by a worker or sidecar stop counts).
        response: the serialized InvokeResponse (result or fault) once finished, else None.
        fault_code, fault_message: the fault of a failed job.
    """

    id: str
    procedure: str
    request: bytes
    created_at: datetime.datetime
    state: str = QUEUED
    user: str = ""
    api_version: int = 0
    protocol: str = ""
    request_id: str = ""
    forward_metadata: Mapping[str, str] = field(default_factory=dict)
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    attempts: int = 0
    response: bytes | None = None
    fault_code: int | None = None
    fault_message: str | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("Job.created_at must be timezone-aware")
        if self.state not in JOB_STATES:
            raise ValueError(f"Job.state must be one of {sorted(JOB_STATES)}")

    @property
    def finished(self) -> bool:
        """True once the job succeeded or failed."""
        return self.state in FINISHED_STATES


@dataclass(frozen=True, slots=True)
class JobFault:
    """How a failed job ended: the fault code and message its caller will see."""

    code: int
    message: str
