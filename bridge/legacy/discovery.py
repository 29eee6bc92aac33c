"""What an upstream offers: names from `system.listMethods`, help and signatures where it has them.

Introspection follows http://xmlrpc-c.sourceforge.net/introspection.html. `system.methodHelp` and
`system.methodSignature` are optional: asked only when listed, and a fault or an odd answer from
either just leaves that part out. Blocking (client kit calls); must not import grpc or aiohttp.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bridge.client.failures import TransportError
from bridge.client.rpc_point import RPCPoint
from bridge.errors import ConfigError, Fault

log = logging.getLogger("rpcbridge.legacy")

LIST_METHODS: Final = "system.listMethods"
METHOD_HELP: Final = "system.methodHelp"
METHOD_SIGNATURE: Final = "system.methodSignature"
# Reserved by the bridge (its own introspection, JSON-RPC's rpc.*): never forwarded.
RESERVED_PREFIXES: Final = ("system.", "rpc.")


@dataclass(frozen=True, slots=True)
class UpstreamMethod:
    """One upstream method: its name, help text, and signatures ([return type, param types...] each)."""

    name: str
    help: str = ""
    signatures: tuple[tuple[str, ...], ...] = ()


def discover(point: RPCPoint, names: Sequence[str] = ()) -> list[UpstreamMethod]:
    """The methods to forward: `names` as given, or those the upstream lists (system.* left out).

    Raises ConfigError when the upstream cannot be asked or has no system.listMethods.
    """
    if names:
        return [UpstreamMethod(name) for name in dict.fromkeys(names)]
    try:
        listed = point.call(LIST_METHODS)
    except (Fault, TransportError) as exc:
        raise ConfigError(
            f"cannot list the methods of {point.url} with {LIST_METHODS} ({exc}); "
            "name them with --method (or legacy_methods in the config file)"
        ) from exc
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise ConfigError(f"{LIST_METHODS} of {point.url} did not return a list of names")
    offered = set(listed)
    methods = []
    for name in dict.fromkeys(listed):
        if name.startswith(RESERVED_PREFIXES) or not name.strip():
            continue
        help_text = _ask(point, METHOD_HELP, name) if METHOD_HELP in offered else None
        signatures = _ask(point, METHOD_SIGNATURE, name) if METHOD_SIGNATURE in offered else None
        methods.append(
            UpstreamMethod(
                name,
                help_text if isinstance(help_text, str) else "",
                _signatures(signatures),
            )
        )
    return methods


def _ask(point: RPCPoint, introspection: str, name: str) -> Any:
    """One optional introspection answer, or None when the upstream faults or fails."""
    try:
        return point.call(introspection, name)
    except (Fault, TransportError) as exc:
        log.info("%s(%r) at %s failed: %s", introspection, name, point.url, exc)
        return None


def _signatures(answer: Any) -> tuple[tuple[str, ...], ...]:
    """Signatures from a methodSignature answer; () for "undef" or anything that is not one."""
    if not isinstance(answer, list) or not answer:
        return ()
    found = []
    for signature in answer:
        if not isinstance(signature, list) or not signature:
            return ()
        if not all(isinstance(type_name, str) and type_name for type_name in signature):
            return ()
        found.append(tuple(signature))
    return tuple(found)
