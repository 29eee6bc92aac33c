"""gRPC metadata keys the bridge's processes exchange; the one place their names are spelled.

Keys are lowercase ASCII, as gRPC requires. Values never hold API keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

REQUEST_ID: Final = "x-request-id"
# W3C Trace Context, carried hop to hop under the names OpenTelemetry's gRPC propagation uses; each
# hop sends its own span as the parent of the next (bridge.tracing).
TRACEPARENT: Final = "traceparent"
TRACESTATE: Final = "tracestate"
# Set by the sidecar after it has authenticated a call; workers trust it only with the proof below.
CALLER: Final = "rpcbridge-caller"
# The sidecar's proof to workers: the shared secret from settings (worker_secret).
SIDECAR_PROOF: Final = "rpcbridge-sidecar-proof"
# Credentials, header or params form, lifted from a request (see bridge.calls.Credentials).
AUTH_FORM: Final = "rpcbridge-auth-form"
AUTH_USER: Final = "rpcbridge-auth-user"
AUTH_NONCE: Final = "rpcbridge-auth-nonce"
AUTH_TIMESTAMP: Final = "rpcbridge-auth-timestamp"
AUTH_SIGNATURE: Final = "rpcbridge-auth-signature"
AUTH_METHOD: Final = "rpcbridge-auth-method"
AUTH_PATH: Final = "rpcbridge-auth-path"
AUTH_BODY_SHA256: Final = "rpcbridge-auth-body-sha256"
PEER: Final = "rpcbridge-peer"
# The frontend's random id for one HTTP request: credentials are checked once per request.
HTTP_SCOPE: Final = "rpcbridge-http-scope"
# "1": verify the caller even if the procedure is not auth=True (the frontend sets it for pickle).
AUTH_REQUIRED: Final = "rpcbridge-auth-required"
# A WebSocket's token (docs/realtime.md): the sidecar vouched for the socket's user; only a
# sidecar can check it, and it holds only while the user stays enabled and the key active.
SOCKET_TOKEN: Final = "rpcbridge-socket-token"  # noqa: S105 (a metadata key, not a secret)
# Set by the sidecar's job runner on every run of a background job: the job's id, which the
# procedure can use as an idempotency key (a job may run more than once, docs/jobs.md).
JOB_ID: Final = "rpcbridge-job-id"


def as_dict(metadata: Iterable[tuple[str, str | bytes]] | None) -> dict[str, str]:
    """Invocation metadata as a dict of text values (binary `-bin` entries are skipped)."""
    return {key: value for key, value in metadata or () if isinstance(value, str)}
