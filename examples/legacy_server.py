"""A plain legacy XML-RPC server, standard library only, to put behind the bridge's legacy adapter.

    python examples/legacy_server.py 8000

serves add, greet, echo and now at http://127.0.0.1:8000/RPC2, with introspection
(system.listMethods, methodHelp, methodSignature) and system.multicall. Port 0 lets the kernel
choose; the server prints its URL once it is listening.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCServer


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def greet(name: str) -> str:
    """Greet someone by name; an empty name is fault 4."""
    if not name:
        raise Fault(4, "greet needs a name")
    return f"Hello, {name}!"


def echo(value: Any) -> Any:
    """Return the value unchanged."""
    return value


def now() -> datetime.datetime:
    """The server's local time, as an XML-RPC dateTime."""
    return datetime.datetime.now().replace(microsecond=0)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    server = SimpleXMLRPCServer(
        ("127.0.0.1", port), logRequests=False, allow_none=True, use_builtin_types=True
    )
    server.register_introspection_functions()
    server.register_multicall_functions()
    for function in (add, greet, echo, now):
        server.register_function(function)
    print(f"legacy XML-RPC server at http://127.0.0.1:{server.server_address[1]}/RPC2", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
