"""A webhook receiver for integration tests: an aiohttp server on 127.0.0.1:0 in its own thread.

Each path answers from a script of responses (the last one repeats); every request is recorded with
its headers, body and when it started and ended, so tests can verify signatures and count attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, headers, and how long to wait before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    ended: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> Any:
        """The payload, verified with `standardwebhooks` (raises when the signature is wrong)."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """Scripts per path (`script(path, *replies)`) and everything received (`received(path)`)."""

    def __init__(self) -> None:
        self.url = ""
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        self._received: list[Received] = []
        self._arrivals: dict[str, int] = {}
        self.stopping: asyncio.Event | None = None  # set at stop: delayed replies end at once

    def script(self, path: str, *replies: Reply) -> None:
        """Answer requests to `path` with these replies in turn, the last one from then on."""
        with self._lock:
            self._scripts[path] = list(replies)

    def received(self, path: str | None = None) -> list[Received]:
        """Requests received so far (to one path), in arrival order."""
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def arrivals(self, path: str) -> int:
        """Requests to `path` that have arrived, answered or not yet (a delayed reply is pending)."""
        with self._lock:
            return self._arrivals.get(path, 0)

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        body = await request.read()
        with self._lock:
            self._arrivals[request.path] = self._arrivals.get(request.path, 0) + 1
            script = self._scripts.get(request.path, [Reply()])
            reply = script.pop(0) if len(script) > 1 else script[0]
        if reply.delay and self.stopping is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), reply.delay)
        with self._lock:
            headers = {k.lower(): v for k, v in request.headers.items()}
            self._received.append(Received(request.path, headers, body, started, time.monotonic()))
        return web.Response(status=reply.status, headers=reply.headers, text="ok from the receiver")


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """Start a receiver in a thread with its own event loop; stop it afterwards."""
    receiver = Receiver()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def start() -> None:
        receiver.stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", receiver._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        runner_box.append(runner)
        ready.set()

    thread = threading.Thread(target=loop.run_forever, name="webhook-receiver", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    ready.wait(10)
    try:
        yield receiver
    finally:
        assert receiver.stopping is not None
        loop.call_soon_threadsafe(receiver.stopping.set)
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
