"""A WebSocket client for the bridge's `/ws` (docs/realtime.md): subscribe, print events, and resume
with `since` after a drop, so no event is missed or seen twice. Needs `pip install websockets`.

    python examples/ws_client.py ws://127.0.0.1:8080/ws person.saved [--count N]

Optionally authenticates first (RPCBRIDGE_USER and RPCBRIDGE_KEY in the environment), which
`auth=True` hooks require. Prints one JSON line per event; stops after N events if asked.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import time
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from bridge.auth.signing import params_signature

_ids = itertools.count(1)


async def request(ws: ClientConnection, method: str, params: Any, events: list[dict[str, Any]]) -> Any:
    """Send one call and return its result; events that arrive before the answer are kept in order."""
    call_id = next(_ids)
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": call_id, "method": method, "params": params}))
    while True:
        message = json.loads(await ws.recv())
        if message.get("method") == "rpc.event":
            events.append(message["params"])
        elif message.get("id") == call_id:
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message["result"]


async def follow(url: str, types: list[str], count: int | None) -> None:
    """Subscribe, print events, reconnect and resume until `count` events were printed (or forever)."""
    since: dict[str, Any] | None = None
    printed = 0
    while count is None or printed < count:
        try:
            async with connect(url) as ws:
                events: list[dict[str, Any]] = []
                user, key = os.environ.get("RPCBRIDGE_USER"), os.environ.get("RPCBRIDGE_KEY")
                if user and key:
                    nonce, timestamp = secrets.token_hex(16), int(time.time())
                    signature = params_signature(key, nonce, timestamp, user)
                    await request(ws, "rpc.authenticate", [nonce, timestamp, user, signature], events)
                params: dict[str, Any] = {"events": types}
                if since is not None:
                    params["since"] = since
                answer = await request(ws, "rpc.subscribe", params, events)
                if since is not None and not answer["recovered"]:
                    print(json.dumps({"warning": "events were missed: history no longer reaches back"}))
                since = {"epoch": answer["epoch"], "offset": answer["offset"]}
                while count is None or printed < count:
                    event = events.pop(0) if events else json.loads(await ws.recv())["params"]
                    since = {"epoch": event["epoch"], "offset": event["offset"]}
                    print(json.dumps({k: event[k] for k in ("offset", "type", "id", "data")}), flush=True)
                    printed += 1
        except (OSError, websockets.exceptions.ConnectionClosed) as exc:
            print(json.dumps({"reconnecting": str(exc)}), flush=True)
            await asyncio.sleep(1)


def main() -> None:
    """Parse the command line and follow the events."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the frontend's /ws, e.g. ws://127.0.0.1:8080/ws")
    parser.add_argument("events", nargs="+", help='event types, or "*"')
    parser.add_argument("--count", type=int, help="stop after this many events")
    args = parser.parse_args()
    asyncio.run(follow(args.url, args.events, args.count))


if __name__ == "__main__":
    main()
