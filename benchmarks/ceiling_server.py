"""The ceiling: a bare aiohttp handler that reads the POST body and answers with fixed bytes.

No decoding, no dispatch, no hop: what one core can do with aiohttp before any RPC work.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from benchmarks.payloads import XMLRPC_ECHO_ANSWER
from benchmarks.ready_file import announce_url


async def answer(request: web.Request) -> web.Response:
    """Read the body, then send the XML-RPC echo answer whatever was asked."""
    await request.read()
    return web.Response(body=XMLRPC_ECHO_ANSWER, content_type="text/xml")


async def serve(ready_file: Path) -> None:
    """Serve on a kernel-chosen port of 127.0.0.1 until cancelled."""
    app = web.Application()
    app.router.add_post("/rpc", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    announce_url(ready_file, f"http://127.0.0.1:{port}/rpc")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Entry point: `python -m benchmarks.ceiling_server --ready-file F`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-file", type=Path, required=True)
    asyncio.run(serve(parser.parse_args().ready_file))


if __name__ == "__main__":
    main()
