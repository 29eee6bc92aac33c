"""The fan-out line of `make bench`: events per second one frontend delivers to 1 000 idle
WebSocket subscribers, and the frontend's CPU per delivered event (docs/realtime.md).

A deployment (example worker, sidecar, frontend) on SQLite; 1 000 `websockets` clients subscribe to
`person.saved` and only read; a few HTTP clients call `people.save` for the measured time. Counted
from the frontend's own metric (`rpcbridge_frontend_ws_events_sent_total`) and its /proc CPU time.
Environment: BENCH_SECONDS (default 10), BENCH_FANOUT_SUBSCRIBERS (default 1000).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.request
from pathlib import Path
from typing import Final

from websockets.asyncio.client import connect

from benchmarks.cpu_usage import process_seconds
from bridge.testing import Deployment, deployment

ROOT: Final = Path(__file__).resolve().parent.parent
EXAMPLE_WORKER: Final = str(ROOT / "examples" / "example_worker.py")
SENT: Final = re.compile(r"^rpcbridge_frontend_ws_events_sent_total (\S+)$", re.MULTILINE)
PRODUCERS: Final = 4


def _sent(url: str) -> float:
    body = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    found = SENT.search(body)
    return float(found.group(1)) if found else 0.0


def _save(url: str, number: int) -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": "people.save", "params": [f"p{number}", {}], "id": 1})
    request = urllib.request.Request(
        url + "/rpc", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=10).read()


async def _subscriber(url: str, subscribed: asyncio.Queue[None], stop: asyncio.Event) -> None:
    """Subscribe, then only read what arrives until told to stop."""
    async with connect(url, max_queue=None) as ws:
        params = {"events": ["person.saved"]}
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.subscribe", "params": params}))
        await ws.recv()
        subscribed.put_nowait(None)
        while not stop.is_set():
            try:
                await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue


async def _measure(bridge: Deployment, subscribers: int, seconds: float) -> tuple[float, float, float]:
    ws_url = bridge.url.replace("http://", "ws://", 1) + "/ws"
    subscribed: asyncio.Queue[None] = asyncio.Queue()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_subscriber(ws_url, subscribed, stop)) for _ in range(subscribers)]
    for _ in range(subscribers):
        await asyncio.wait_for(subscribed.get(), 120)
    pid = bridge.frontend.process.pid
    sent_before, cpu_before, started = _sent(bridge.url), process_seconds(pid) or 0.0, time.monotonic()
    deadline = started + seconds

    def produce(offset: int) -> None:
        number = offset
        while time.monotonic() < deadline:
            _save(bridge.url, number)
            number += PRODUCERS

    await asyncio.gather(*(asyncio.to_thread(produce, i) for i in range(PRODUCERS)))
    await asyncio.sleep(1.0)  # the last events reach every subscriber
    elapsed = time.monotonic() - started
    delivered = _sent(bridge.url) - sent_before
    cpu = (process_seconds(pid) or 0.0) - cpu_before
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return delivered, elapsed, cpu


def fanout_line(scratch: Path) -> str:
    """Run the fan-out measurement and return its one report line."""
    seconds = float(os.environ.get("BENCH_SECONDS", "10") or 10)
    subscribers = int(os.environ.get("BENCH_FANOUT_SUBSCRIBERS", "1000") or 1000)
    scratch.mkdir(parents=True, exist_ok=True)
    env = {"RPCBRIDGE_LOG_INCOMING": "false", "RPCBRIDGE_WS_MAX_SOCKETS": str(subscribers + 10)}
    with deployment([EXAMPLE_WORKER], scratch=scratch, env=env) as bridge:
        delivered, elapsed, cpu = asyncio.run(_measure(bridge, subscribers, seconds))
    if not delivered:
        return f"fan-out to {subscribers} subscribers: no event delivered (see {scratch})"
    return (
        f"fan-out to {subscribers} idle subscribers on one frontend: {delivered / elapsed:,.0f} events/s "
        f"delivered, {cpu / delivered * 1e6:.1f} µs frontend CPU per delivered event "
        f"({delivered:,.0f} in {elapsed:.1f} s)"
    )


if __name__ == "__main__":
    print(fanout_line(ROOT / ".rpcbridge" / "bench" / "fanout"))
