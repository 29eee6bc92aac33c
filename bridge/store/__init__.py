"""Persistent state of the sidecar: API users and keys, nonces, the call log, the admin password,
background jobs and events.

Stores sit behind `typing.Protocol` seams (`bridge.store.interfaces`) and are chosen by URL in
one factory, `bridge.store.factory.open_stores`; batches of call records go through
`bridge.store.call_log_writer.CallLogWriter`. This package re-exports only the seams and the
records, so importing it loads no database driver. Must not import grpc, aiohttp or the frontend.
"""

from __future__ import annotations

from bridge.store.interfaces import (
    AdminStore,
    CallLogSink,
    CallLogStore,
    DuplicateUserError,
    EventStore,
    InvalidUserError,
    JobStore,
    NonceStore,
    NonceStoreUnavailable,
    SchemaError,
    StoreError,
    StoreUnavailable,
    UnknownUserError,
    UserStore,
)
from bridge.store.records import CallFilter, CallPage, CallRecord, Job, JobFault, User

__all__ = [
    "AdminStore",
    "CallFilter",
    "CallLogSink",
    "CallLogStore",
    "CallPage",
    "CallRecord",
    "DuplicateUserError",
    "EventStore",
    "InvalidUserError",
    "Job",
    "JobFault",
    "JobStore",
    "NonceStore",
    "NonceStoreUnavailable",
    "SchemaError",
    "StoreError",
    "StoreUnavailable",
    "UnknownUserError",
    "User",
    "UserStore",
]
