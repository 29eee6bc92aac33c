"""Python's own `xmlrpc.server.SimpleXMLRPCServer` serving `echo`, plain and single-threaded.

As shipped, it answers in HTTP/1.0 and closes each connection after one request; `--keep-alive`
makes the handler answer in HTTP/1.1 so connections are reused. Its default request log (one line
per request on stderr) stays on, as the bridge also writes a line per request.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from benchmarks.ready_file import announce_url


class StockRequestHandler(SimpleXMLRPCRequestHandler):
    """The stock handler: HTTP/1.0, one request per connection."""

    rpc_paths = ("/", "/RPC2", "/rpc")


class KeepAliveRequestHandler(StockRequestHandler):
    """The stock handler answering in HTTP/1.1, so a connection is reused until the client closes it."""

    protocol_version = "HTTP/1.1"


def echo(var: str = "") -> str:
    """Return the argument unchanged."""
    return var


def main() -> None:
    """Serve on a kernel-chosen port of 127.0.0.1 until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--keep-alive", action="store_true", help="answer in HTTP/1.1 (see the docstring)")
    args = parser.parse_args()
    handler = KeepAliveRequestHandler if args.keep_alive else StockRequestHandler
    with SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=handler) as server:
        server.register_function(echo)
        host, port = server.server_address[:2]
        announce_url(args.ready_file, f"http://{host!s}:{port}/RPC2")
        server.serve_forever()


if __name__ == "__main__":
    main()
