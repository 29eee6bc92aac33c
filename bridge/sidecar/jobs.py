"""Background jobs at the sidecar's door: accepting calls to `background=True` procedures, and
answering `system.jobStatus` / `system.jobResult` (docs/jobs.md).

Pure of transport: the gRPC layer passes a `JobCodec` for the few messages read or written here.
Must not import grpc or protobuf. `bridge.sidecar.job_runner` runs the accepted jobs.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bridge import metadata
from bridge.auth.failures import AuthFailure
from bridge.auth.signing import credentials_from_params
from bridge.auth.verifier import Verifier
from bridge.calls import Call, Credentials, Outcome, Success
from bridge.errors import Status
from bridge.faults import INTERNAL_ERROR, INVALID_PARAMS, JOB_NOT_FINISHED, UNKNOWN_JOB, fault
from bridge.introspection import JOB_METHODS, JOB_STATUS
from bridge.procedures import ProcedureInfo
from bridge.rpc.invoke_codec import call_from_bytes, outcome_bytes, outcome_from_bytes
from bridge.sidecar.authentication import AUTH_PARAM_COUNT, credentials_from_metadata
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply
from bridge.store.database import utc_now
from bridge.store.interfaces import JobStore, StoreError
from bridge.store.records import Job

log = logging.getLogger("rpcbridge.sidecar.jobs")

STORE_UNAVAILABLE = "the job store is unavailable; try again later"


@dataclass(frozen=True, slots=True)
class JobCodec:
    """The messages jobs need, as functions: `JOB_CODEC` (`bridge.rpc.invoke_codec`), or a test's fakes.

    Args:
        encode_outcome: a result or fault as serialized InvokeResponse bytes.
        decode_outcome: serialized InvokeResponse bytes as an outcome; raises ValueError if malformed.
        decode_call: serialized InvokeRequest bytes as a call; raises ValueError if malformed.
    """

    encode_outcome: Callable[[Outcome], bytes]
    decode_outcome: Callable[[bytes], Outcome]
    decode_call: Callable[[bytes], Call]


JOB_CODEC: Final = JobCodec(
    encode_outcome=outcome_bytes, decode_outcome=outcome_from_bytes, decode_call=call_from_bytes
)


@dataclass(frozen=True, slots=True)
class JobQuery:
    """A `system.jobStatus` / `system.jobResult` call: the job id, and credentials if it carries any."""

    job_id: str
    credentials: Credentials | None


def new_job_id() -> str:
    """A job id: 128 random bits as 32 hex digits, so holding an id is the only way to know one."""
    return uuid.uuid4().hex


def parse_query(call: Call, received: Mapping[str, str]) -> JobQuery:
    """The job id and credentials of a query: `(id)`, `{"id": ...}`, or the four auth params then `(id)`.

    Raises ValueError for any other shape, AuthFailure for malformed auth params.
    """
    from_metadata = credentials_from_metadata(received)
    if call.named is not None:
        if set(call.named) != {"id"}:
            raise ValueError(f"{call.procedure} takes one named parameter, id")
        job_id, creds = call.named["id"], from_metadata
    elif len(call.params) == 1:
        job_id, creds = call.params[0], from_metadata
    elif len(call.params) == AUTH_PARAM_COUNT + 1 and from_metadata is None:
        creds, rest = credentials_from_params(call.params)
        job_id = rest[0]
    else:
        raise ValueError(
            f"{call.procedure} takes one parameter, the job id (after the four auth params, if any)"
        )
    if not isinstance(job_id, str):
        raise ValueError(f"{call.procedure}: the job id must be a string")
    return JobQuery(job_id, creds)


def _iso(moment: datetime.datetime | None) -> str | None:
    # Text, not a datetime: JSON has no datetime type, and a status every protocol can read beats one
    # that JSON-RPC clients would get as a -32007 fault.
    return None if moment is None else moment.astimezone(datetime.UTC).isoformat()


def job_status(job: Job) -> dict[str, Any]:
    """The `system.jobStatus` answer for a job."""
    return {
        "id": job.id,
        "state": job.state,
        "procedure": job.procedure,
        "created": _iso(job.created_at),
        "started": _iso(job.started_at),
        "finished": _iso(job.finished_at),
    }


class BackgroundJobs:
    """Interceptor: stores calls to background procedures as jobs; answers the `system.job*` queries.

    It runs after `AuthenticateCalls`, so the caller of an auth procedure is known when its job is
    stored. The queries are not in the catalogue, so they authenticate here, with the same verifier.

    Args:
        on_accepted: called after a job is committed (wakes the runner).
        on_auth_failure: called with every refused authentication (metrics).
    """

    def __init__(
        self,
        store: JobStore,
        describe: Callable[[str], ProcedureInfo | None],
        verifier: Verifier,
        codec: JobCodec,
        on_accepted: Callable[[], None],
        on_auth_failure: Callable[[AuthFailure], None],
        clock: Callable[[], datetime.datetime] = utc_now,
        new_id: Callable[[], str] = new_job_id,
    ) -> None:
        self._store = store
        self._describe = describe
        self._verifier = verifier
        self._codec = codec
        self._on_accepted = on_accepted
        self._on_auth_failure = on_auth_failure
        self._clock = clock
        self._new_id = new_id

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        """Answer job queries, accept background calls, pass everything else on."""
        if call.procedure in JOB_METHODS:
            return await self._answer(call)
        info = self._describe(call.procedure)
        if info is None or not info.background or not info.serves_version(call.api_version):
            return await proceed(call)
        return await self._accept(call, info)

    def _reply(self, outcome: Outcome) -> ProxyReply:
        return ProxyReply(self._codec.encode_outcome(outcome))

    async def _accept(self, call: ProxiedCall, info: ProcedureInfo) -> ProxyReply:
        """Commit the job, then answer with its id: the answer never names a job that was not stored."""
        if info.auth and call.caller is None:
            # AuthenticateCalls sets the caller first; a chain without it must not run the job as nobody.
            return ProxyReply.failure(Status.UNAUTHENTICATED, "the background call was not authenticated")
        job = Job(
            id=self._new_id(),
            procedure=call.procedure,
            request=call.request,
            created_at=self._clock(),
            user=call.caller or "",
            api_version=call.api_version,
            protocol=call.protocol,
            request_id=call.request_id,
            forward_metadata=_with_trace(call),
        )
        try:
            await self._store.add(job)
        except StoreError as exc:
            log.warning("job not accepted procedure=%s request_id=%s: %s", job.procedure, job.request_id, exc)
            return ProxyReply.failure(Status.UNAVAILABLE, STORE_UNAVAILABLE)
        log.info(
            "job accepted id=%s procedure=%s caller=%s request_id=%s",
            job.id,
            job.procedure,
            job.user or "-",
            job.request_id,
        )
        self._on_accepted()
        return self._reply(Success(job.id))

    async def _answer(self, call: ProxiedCall) -> ProxyReply:
        """Find the job, check who may see it, and answer with its status or its result."""
        try:
            query = parse_query(self._codec.decode_call(call.request), call.metadata)
        except AuthFailure as failure:
            self._on_auth_failure(failure)
            return ProxyReply.failure(failure.status, failure.message)
        except ValueError as exc:
            return self._reply(fault(INVALID_PARAMS, data=str(exc)))
        try:
            job = await self._store.get(query.job_id)
        except StoreError as exc:
            log.warning("job query failed id=%s: %s", query.job_id[:64], exc)
            return ProxyReply.failure(Status.UNAVAILABLE, STORE_UNAVAILABLE)
        if job is None:
            return self._reply(fault(UNKNOWN_JOB))
        # A caller proven earlier in the chain (pickle calls demand authentication) is not verified
        # twice: the nonce is spent. Otherwise the user's scopes are checked against the job's
        # procedure: whoever may call it may follow its jobs.
        if call.caller is None and query.credentials is not None:
            try:
                user = await self._verifier.verify(
                    query.credentials, job.procedure, call.metadata.get(metadata.HTTP_SCOPE, "")
                )
            except AuthFailure as failure:
                self._on_auth_failure(failure)
                return ProxyReply.failure(failure.status, failure.message)
            call = dataclasses.replace(call, caller=user.username)
        return dataclasses.replace(self._for_caller(call, job), answered=call)

    def _for_caller(self, call: ProxiedCall, job: Job) -> ProxyReply:
        """The answer to a job query, for the caller it proved (or no caller)."""
        if job.user and call.caller is None:
            return ProxyReply.failure(Status.UNAUTHENTICATED, "this job belongs to a user: authenticate")
        if job.user and call.caller != job.user:
            # The same answer as for an id that does not exist: another user's job id reveals nothing.
            return self._reply(fault(UNKNOWN_JOB))
        if call.procedure == JOB_STATUS:
            return self._reply(Success(job_status(job)))
        return self._result(job)

    def _result(self, job: Job) -> ProxyReply:
        """The stored response of a finished job (its result or its fault, byte for byte)."""
        if not job.finished:
            return self._reply(fault(JOB_NOT_FINISHED, data={"id": job.id, "state": job.state}))
        if job.response is None:
            log.error("job id=%s is %s but has no stored response", job.id, job.state)
            return self._reply(fault(INTERNAL_ERROR))
        return ProxyReply(job.response)


def _with_trace(call: ProxiedCall) -> dict[str, str]:
    """The metadata every run sends the worker: the call's, and its span as the run's parent, so the
    job's runs continue the trace of the request that submitted it."""
    forwarded = dict(call.forward_metadata)
    if call.trace is not None:
        forwarded[metadata.TRACEPARENT] = call.trace.header
        if call.trace.tracestate:
            forwarded[metadata.TRACESTATE] = call.trace.tracestate
    return forwarded
