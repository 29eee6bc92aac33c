"""The legacy adapter: a `bridge.Worker` whose procedures forward to an XML-RPC or JSON-RPC server.

Each upstream method becomes one procedure, named prefix + upstream name, taking any arguments
(the upstream checks them). Values pass through the client kit's codecs unchanged; an upstream
fault reaches the caller with its own code, message and data; a call that got no answer from the
upstream becomes Fault(-32300 "Transport error") saying why, never the upstream's error page.
Every upstream call is recorded as an outgoing call when a sidecar is given. Must not import
grpc or aiohttp: `bridge.legacy.main` serves this worker over gRPC.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

from bridge.client.failures import HTTPStatusError, InvalidReply, TransportError
from bridge.client.recording import RecordSink, sink_for
from bridge.errors import ConfigError, Fault
from bridge.faults import INVALID_PARAMS, TRANSPORT_ERROR, fault
from bridge.legacy.discovery import RESERVED_PREFIXES, UpstreamMethod, discover
from bridge.legacy.upstream import PointPool, UpstreamConfig, open_point
from bridge.procedures import Parameter, ProcedureInfo
from bridge.worker import Worker

log = logging.getLogger("rpcbridge.legacy")

TRANSPORT_MESSAGE: Final = "Transport error"


def transport_fault(exc: TransportError) -> Fault:
    """The fault a caller gets when the upstream gave no answer: why, but not the upstream's text.

    An HTTP error page or a garbled reply may hold the upstream's internals, so only its kind
    reaches the caller; the whole of it goes to the adapter's log and the outgoing-call record.
    """
    if isinstance(exc, HTTPStatusError):
        reason = f"HTTP {exc.status}"
    elif isinstance(exc, InvalidReply):
        reason = "the reply was not valid in the upstream's protocol"
    else:
        reason = exc.reason
    return Fault(TRANSPORT_ERROR, TRANSPORT_MESSAGE, f"the upstream server did not answer: {reason}")


def published_signature(signatures: Sequence[Sequence[str]]) -> tuple[str, tuple[Parameter, ...]] | None:
    """(return type, params) when the upstream's signatures describe one procedure the catalogue can show.

    That is: one return type, one type per position, and arities without gaps (the shorter
    signatures make the later params optional). Otherwise None, and the procedure is shown as
    taking any arguments.
    """
    if not signatures or len({signature[0] for signature in signatures}) != 1:
        return None
    arities = {len(signature) - 1 for signature in signatures}
    longest = max(arities)
    if arities != set(range(min(arities), longest + 1)):
        return None
    types: list[str] = []
    for position in range(1, longest + 1):
        seen = {signature[position] for signature in signatures if len(signature) > position}
        if len(seen) != 1:
            return None
        types.append(seen.pop())
    params = tuple(
        Parameter(f"arg{index + 1}", type_name, optional=index >= min(arities))
        for index, type_name in enumerate(types)
    )
    return signatures[0][0], params


class LegacyWorker(Worker):
    """A worker forwarding each registered procedure to one method of the upstream."""

    def __init__(
        self, config: UpstreamConfig, methods: Sequence[UpstreamMethod], sink: RecordSink | None = None
    ) -> None:
        super().__init__()
        self.config = config
        if sink is None:
            sink = sink_for(config.sidecar or None)
        self._pool = PointPool(lambda: open_point(config, sink), config.max_connections)
        self._infos: dict[str, ProcedureInfo] = {}
        for method in methods:
            self._register(method)

    def _register(self, method: UpstreamMethod) -> None:
        public = self.config.prefix + method.name
        if public.startswith(RESERVED_PREFIXES):
            log.warning("not forwarding %r: names starting with system. or rpc. are reserved", public)
            return
        forward = self._forwarder(method.name)
        forward.__doc__ = method.help or f"Forwards to {method.name} at {self.config.display_url}."
        self.procedure(name=public)(forward)
        # Signatures that include the auth params the adapter adds would mislead callers.
        shown = None if self.config.auth_user else published_signature(method.signatures)
        if shown is None:
            self._infos[public] = ProcedureInfo(name=public, help=method.help, variadic=True)
        else:
            returns, params = shown
            self._infos[public] = ProcedureInfo(name=public, help=method.help, params=params, returns=returns)

    def _forwarder(self, upstream_name: str) -> Callable[..., Any]:
        pool, config = self._pool, self.config

        async def forward(*params: Any, **named: Any) -> Any:
            if named and (config.protocol == "xmlrpc" or config.auth_user):
                raise fault(INVALID_PARAMS, data=f"{upstream_name} takes its arguments by position")
            try:
                return await pool.call(upstream_name, params, named)
            except TransportError as exc:
                log.warning("calling %s at %s failed: %s", upstream_name, exc.url, exc.reason)
                raise transport_fault(exc) from exc

        return forward

    def describe(self) -> list[ProcedureInfo]:
        """The forwarded procedures, with the upstream's help and (where usable) signatures."""
        return [self._infos.get(info.name, info) for info in super().describe()]

    def close(self) -> None:
        """Wait for the calls under way, then close the connections to the upstream."""
        self._pool.close()


def build_adapter(config: UpstreamConfig) -> LegacyWorker:
    """Discover the upstream's methods (unless `config.methods` names them) and build the worker.

    Blocking. Introspection is asked without auth params (servers rarely want them there), and
    with them only when that fails and the adapter has them. Discovery calls are not recorded in
    the call log. Raises ConfigError when the upstream cannot be asked, or offers nothing to forward.
    """
    try:
        methods = _discover(config, with_auth=False)
    except ConfigError:
        if not config.auth_user:
            raise
        methods = _discover(config, with_auth=True)
    worker = LegacyWorker(config, methods)
    if not worker.describe():
        worker.close()
        raise ConfigError(f"{config.display_url} offers no methods to forward")
    return worker


def _discover(config: UpstreamConfig, with_auth: bool) -> list[UpstreamMethod]:
    point = open_point(config, None, with_auth=with_auth)
    try:
        return discover(point, config.methods)
    finally:
        point.close()
