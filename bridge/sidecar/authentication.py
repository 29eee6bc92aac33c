"""The authentication interceptor: every call to an `auth=True` procedure proves its caller here.

A WebSocket's calls carry the socket's token instead (`bridge.sidecar.socket_auth`). So does
every call whose metadata demands it (`rpcbridge-auth-required: 1`, which the frontend
sends for pickle-over-HTTP); the caller then travels on even to procedures that ignore it.

Pure of transport. Credentials come from metadata (the header form, which the frontend lifts from
`Authorization`, or gRPC clients' own metadata) or, failing that, from the call's first four
params (rpcenable-compatible), which are taken out before the worker sees the call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from bridge import metadata
from bridge.auth.failures import AuthFailure, Reason
from bridge.auth.signing import credentials_from_params
from bridge.auth.verifier import Verifier
from bridge.calls import Credentials
from bridge.errors import Fault
from bridge.procedures import ProcedureInfo
from bridge.rpc.values import lift_leading_params
from bridge.sidecar.interception import Proceed, ProxiedCall, ProxyReply
from bridge.sidecar.socket_auth import SocketAuthority

AUTH_PARAM_COUNT = 4


def credentials_from_metadata(received: Mapping[str, str]) -> Credentials | None:
    """Credentials a client or the frontend put in metadata, or None when there are none."""
    if metadata.AUTH_USER not in received:
        return None
    return Credentials(
        form=received.get(metadata.AUTH_FORM, "header"),
        username=received.get(metadata.AUTH_USER, ""),
        nonce=received.get(metadata.AUTH_NONCE, ""),
        timestamp=received.get(metadata.AUTH_TIMESTAMP, ""),
        signature=received.get(metadata.AUTH_SIGNATURE, ""),
        method=received.get(metadata.AUTH_METHOD, ""),
        path=received.get(metadata.AUTH_PATH, ""),
        body_sha256=received.get(metadata.AUTH_BODY_SHA256, ""),
    )


class AuthenticateCalls:
    """Interceptor: verify credentials where required, pass the caller on, refuse the rest."""

    def __init__(
        self,
        verifier: Verifier,
        describe: Callable[[str], ProcedureInfo | None],
        on_failure: Callable[[AuthFailure], None],
        sockets: SocketAuthority | None = None,
    ) -> None:
        self._verifier = verifier
        self._describe = describe
        self._on_failure = on_failure
        self._sockets = sockets

    async def __call__(self, call: ProxiedCall, proceed: Proceed) -> ProxyReply:
        """Authenticate when the procedure or the call's metadata asks for it, then proceed."""
        info = self._describe(call.procedure)
        demanded = call.metadata.get(metadata.AUTH_REQUIRED) == "1"
        token = call.metadata.get(metadata.SOCKET_TOKEN)
        if not demanded and (info is None or not info.auth):
            if token is not None and self._sockets is not None:
                # A socket's user travels with all its calls (the call log, job queries); any
                # procedure may be called, so no scope applies here.
                call = dataclasses.replace(call, caller=self._sockets.identify(token))
            return await proceed(call)
        try:
            if token is not None and self._sockets is not None:
                # A WebSocket's call: the socket authenticated once; its token is the proof.
                username = self._sockets.vouch(token, call.procedure)
            else:
                creds = credentials_from_metadata(call.metadata)
                if creds is None:
                    creds, call = lift_credentials(call)
                user = await self._verifier.verify(
                    creds, call.procedure, call.metadata.get(metadata.HTTP_SCOPE, "")
                )
                username = user.username
        except AuthFailure as failure:
            self._on_failure(failure)
            return ProxyReply.failure(failure.status, failure.message, answered=call)
        return await proceed(dataclasses.replace(call, caller=username))


def lift_credentials(call: ProxiedCall) -> tuple[Credentials, ProxiedCall]:
    """Take the rpcenable auth params out of the request: the credentials, and the call the worker sees."""
    try:
        leading, rest = lift_leading_params(call.request, AUTH_PARAM_COUNT)
        creds, _ = credentials_from_params(leading)
    except (ValueError, Fault) as exc:
        raise AuthFailure(Reason.MALFORMED, "no credentials in metadata or the first four params") from exc
    return creds, dataclasses.replace(call, request=rest)
