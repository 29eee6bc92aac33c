"""Arguments and results as short, redacted text for the call log (`log_arguments`).

Auth params never appear: the sidecar has taken them out of the request before this runs.
Parameters a procedure declares sensitive are replaced by a marker.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from bridge.procedures import ProcedureInfo
from bridge.rpc.values import request_to_call, response_to_outcome
from bridge.sidecar.call_recording import REDACTED, truncate
from rpcbridge.v1 import worker_pb2


def render_payload(
    request: bytes, response: bytes, info: ProcedureInfo | None
) -> tuple[str | None, str | None]:
    """(arguments, result) as text, sensitive parameters redacted, both truncated."""
    sensitive = set(info.sensitive_params) if info is not None else set()
    try:
        call = request_to_call(worker_pb2.InvokeRequest.FromString(request))
    except DecodeError:
        return None, None
    if call.named is not None:
        arguments = repr({k: REDACTED if k in sensitive else v for k, v in call.named.items()})
    else:
        names = [p.name for p in info.params] if info is not None else []
        shown = [
            REDACTED if index < len(names) and names[index] in sensitive else value
            for index, value in enumerate(call.params)
        ]
        arguments = repr(shown)
    result: str | None = None
    if response:
        try:
            result = repr(response_to_outcome(worker_pb2.InvokeResponse.FromString(response)))
        except DecodeError:
            result = None
    return truncate(arguments), truncate(result) if result is not None else None
