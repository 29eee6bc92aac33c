"""CPU per gRPC stream round trip over loopback TCP and over a unix socket, measured alternately.

`python -m benchmarks.unix_vs_tcp [round_trips [rounds]]`: a server process echoes 200-byte
messages on one bidirectional stream; this process writes one and reads it back, round after
round, alternating the two transports. Counts the CPU (user + system) of both processes. Run it
pinned to one core (`taskset --cpu-list 0`), as `make bench` runs the bridge.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

PAYLOAD = b"x" * 200
WARM_UP = 300


async def _echo(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for message in requests:
        yield message


async def _serve(socket_path: Path) -> None:
    server = grpc.aio.server()
    method = grpc.stream_stream_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": method}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.add_insecure_port(f"unix:{socket_path}")
    await server.start()
    print(port, flush=True)
    await asyncio.Event().wait()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _round(target: str, round_trips: int, server_pid: int) -> float:
    """µs of CPU, both processes, per round trip on a fresh channel to `target`."""
    channel = grpc.aio.insecure_channel(target)
    method: Any = channel.stream_stream("/bench.Echo/Echo", None, None)
    call = method()
    for _ in range(WARM_UP):
        await call.write(PAYLOAD)
        await call.read()
    mine, theirs = os.times(), _cpu_seconds(server_pid)
    for _ in range(round_trips):
        await call.write(PAYLOAD)
        await call.read()
    done = os.times()
    spent = done.user - mine.user + done.system - mine.system + _cpu_seconds(server_pid) - theirs
    call.cancel()
    await channel.close(None)
    return spent / round_trips * 1e6


async def _compare(targets: dict[str, str], round_trips: int, rounds: int, server_pid: int) -> None:
    results: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            results[name].append(await _round(target, round_trips, server_pid))
    for name, values in results.items():
        ordered = sorted(values)
        print(
            f"{name}: median {ordered[len(ordered) // 2]:.0f} µs CPU per round trip, min {ordered[0]:.0f}",
            [round(value) for value in values],
        )


def main(argv: list[str]) -> None:
    """Serve (`serve DIR`, the child) or compare the two transports."""
    if argv[:1] == ["serve"]:
        asyncio.run(_serve(Path(argv[1]) / "echo.sock"))
        return
    round_trips = int(argv[0]) if argv else 5000
    rounds = int(argv[1]) if len(argv) > 1 else 11
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "benchmarks.unix_vs_tcp", "serve", scratch]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            targets = {
                "tcp": f"127.0.0.1:{server.stdout.readline().strip()}",
                "unix": f"unix:{scratch}/echo.sock",
            }
            asyncio.run(_compare(targets, round_trips, rounds, server.pid))
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
