"""`ProcedureInfo` <-> `rpcbridge.v1.Procedure` messages."""

from __future__ import annotations

from bridge.procedures import Parameter, ProcedureInfo
from rpcbridge.v1 import worker_pb2


def info_to_message(info: ProcedureInfo) -> worker_pb2.Procedure:
    """Encode a procedure descriptor."""
    return worker_pb2.Procedure(
        name=info.name,
        help=info.help,
        params=[worker_pb2.Parameter(name=p.name, type=p.type, optional=p.optional) for p in info.params],
        returns=info.returns,
        auth=info.auth,
        versions=info.versions,
        background=info.background,
        variadic=info.variadic,
        sensitive_params=info.sensitive_params,
    )


def message_to_info(message: worker_pb2.Procedure) -> ProcedureInfo:
    """Decode a procedure descriptor."""
    return ProcedureInfo(
        name=message.name,
        help=message.help,
        params=tuple(Parameter(p.name, p.type, p.optional) for p in message.params),
        returns=message.returns,
        auth=message.auth,
        versions=tuple(message.versions),
        background=message.background,
        variadic=message.variadic,
        sensitive_params=tuple(message.sensitive_params),
    )
