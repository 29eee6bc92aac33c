"""`ProcedureInfo` <-> `rpcbridge.v1.Procedure` and `HookInfo` <-> `rpcbridge.v1.Hook` messages."""

from __future__ import annotations

from bridge.procedures import HookInfo, Parameter, ProcedureInfo
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


def hook_to_message(info: HookInfo) -> worker_pb2.Hook:
    """Encode a hook descriptor."""
    return worker_pb2.Hook(name=info.name, fields=info.fields, help=info.help, auth=info.auth)


def message_to_hook(message: worker_pb2.Hook) -> HookInfo:
    """Decode a hook descriptor."""
    return HookInfo(message.name, tuple(message.fields), message.help, message.auth)
