"""The RPC server and its one procedure, registered as django-modern-rpc 2.x documents."""

from __future__ import annotations

from modernrpc import RpcServer

server = RpcServer()


@server.register_procedure
def echo(var: str = "") -> str:
    """Return the argument unchanged."""
    return var
