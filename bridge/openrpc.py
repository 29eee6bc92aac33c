"""`rpc.discover`: the OpenRPC document (https://spec.open-rpc.org/) of a procedure catalogue.

Pure: imports only the neutral vocabulary. OpenRPC tooling generates JSON-RPC clients and docs from
it: each procedure's params and result as JSON Schema mapped from its XML-RPC type names, its help
as the description, and the bridge fault codes (bridge.faults) it can end in as errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from bridge import faults
from bridge.procedures import ProcedureInfo

DISCOVER: Final = "rpc.discover"
OPENRPC_VERSION: Final = "1.3.2"

# XML-RPC type name (bridge.procedures) -> JSON Schema. bytes and datetime.datetime cannot travel
# over JSON-RPC (the codec refuses them), but the schema still says what the procedure takes.
_SCHEMAS: Final[Mapping[str, Mapping[str, Any]]] = {
    "int": {"type": "integer"},
    "i4": {"type": "integer"},
    "double": {"type": "number"},
    "decimal": {"type": "number"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "base64": {"type": "string", "contentEncoding": "base64"},
    "dateTime.iso8601": {"type": "string", "format": "date-time"},
    "array": {"type": "array"},
    "struct": {"type": "object"},
    "nil": {"type": "null"},
}

# Faults any call through the bridge can end in, and those of procedures that need a caller.
_EVERY_CALL: Final = (
    faults.INVALID_PARAMS,
    faults.INTERNAL_ERROR,
    faults.DEADLINE_EXCEEDED,
    faults.WORKER_UNAVAILABLE,
    faults.OVERLOADED,
    faults.VALUE_NOT_REPRESENTABLE,
)
_AUTHENTICATED: Final = (faults.UNAUTHENTICATED, faults.FORBIDDEN)


def schema_for(type_name: str) -> dict[str, Any]:
    """The JSON Schema of an XML-RPC type name; `{}` (anything) when undeclared or unknown."""
    return dict(_SCHEMAS.get(type_name, {}))


def _error_name(code: int) -> str:
    return faults.STANDARD_MESSAGES[code].title().replace(" ", "")


def _method(info: ProcedureInfo) -> dict[str, Any]:
    """One OpenRPC Method Object."""
    params = [{"name": p.name, "schema": schema_for(p.type), "required": not p.optional} for p in info.params]
    if info.background:
        result = {"name": "job_id", "schema": {"type": "string"}, "description": "the background job's id"}
    else:
        result = {"name": "result", "schema": schema_for(info.returns)}
    codes = (*_EVERY_CALL, *(_AUTHENTICATED if info.auth else ()))
    method: dict[str, Any] = {
        "name": info.name,
        "params": params,
        "result": result,
        "errors": [{"$ref": f"#/components/errors/{_error_name(code)}"} for code in codes],
        # A variadic procedure takes extra positional arguments, which names cannot carry.
        "paramStructure": "by-position" if info.variadic else "either",
    }
    if info.help:
        method["summary"] = info.help.splitlines()[0][:200]
        method["description"] = info.help
    return method


def discover(catalogue: Sequence[ProcedureInfo], version: str) -> dict[str, Any]:
    """The OpenRPC document of the procedures in `catalogue` (already filtered to what the caller may see)."""
    codes = sorted({*_EVERY_CALL, *_AUTHENTICATED}, reverse=True)
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "rpcbridge",
            "version": version,
            "description": "Procedures served through rpcbridge; fault codes as in docs/protocols.md.",
        },
        "methods": [_method(info) for info in sorted(catalogue, key=lambda info: info.name)],
        "components": {
            "errors": {
                _error_name(code): {"code": code, "message": faults.STANDARD_MESSAGES[code]} for code in codes
            }
        },
    }
