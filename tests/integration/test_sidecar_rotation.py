"""The frontend's client over several sidecars, with in-process servers standing in for them: a call
never sent to a dead sidecar goes to a live one, and a sidecar that comes back rejoins the rotation."""

from __future__ import annotations

import asyncio
import socket

from bridge import Worker
from bridge.calls import Call, CallContext, Success
from bridge.rpc.sidecar_client import SidecarClient
from bridge.rpc.worker_server import start_worker_server


def named_worker(name: str) -> Worker:
    """A server whose one procedure says which server answered."""
    worker = Worker()

    @worker.procedure
    def where() -> str:
        """Name the server that ran the call."""
        return name

    return worker


def free_address() -> str:
    """A loopback address nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


async def where(client: SidecarClient) -> object:
    outcome = await client.invoke(Call("where", ()), CallContext(request_id="r", timeout=5))
    assert isinstance(outcome, Success), outcome
    return outcome.value


async def test_calls_skip_a_dead_sidecar_and_it_rejoins_when_serving() -> None:
    """Every call succeeds while one of two sidecars is down; once it serves again it gets calls."""
    live = await start_worker_server(named_worker("live"), "127.0.0.1:0")
    dead_address = free_address()
    client = SidecarClient([dead_address, live.address])
    revived = None
    try:
        assert [await where(client) for _ in range(6)] == ["live"] * 6
        revived = await start_worker_server(named_worker("revived"), dead_address)
        answers = []
        for _ in range(100):  # the probe asks every 0.5 s: bounded at about 10 s
            answers.append(await where(client))
            if "revived" in answers:
                break
            await asyncio.sleep(0.1)
        assert "revived" in answers
    finally:
        await client.aclose()
        await live.stop(0)
        if revived is not None:
            await revived.stop(0)
