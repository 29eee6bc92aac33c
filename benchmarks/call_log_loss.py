"""How many answered calls a SIGKILLed sidecar leaves out of the call log (docs/operations figure).

Run: `.venv/bin/python -m benchmarks.call_log_loss [--clients 8] [--seconds 5] [--rounds 3]`.
Clients call `echo` over XML-RPC with their own X-Request-Id; mid-load the sidecar is SIGKILLed;
every id that got a successful answer but is missing from the call log counts as lost.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.records import CallFilter
from bridge.testing import deployment
from tests.integration.conftest import EXAMPLE_WORKER

BODY = (
    b"<?xml version='1.0'?><methodCall><methodName>echo</methodName>"
    b"<params><param><value><string>x</string></value></param></params></methodCall>"
)


def call(url: str, request_id: str) -> bool:
    """One echo with our request id; True when answered (not a fault, not an error)."""
    request = urllib.request.Request(
        url, BODY, {"Content-Type": "text/xml", "X-Request-Id": request_id}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return b"<fault>" not in reply.read()
    except OSError:
        return False


def logged_ids(settings: Settings) -> set[str]:
    async def query() -> set[str]:
        stores = await open_stores(settings)
        try:
            ids: set[str] = set()
            while page := (await stores.call_log.query(CallFilter(procedure="echo"), 1000, len(ids))).records:
                ids.update(record.request_id for record in page)
            return ids
        finally:
            await stores.close()

    return asyncio.run(query())


def one_round(clients: int, seconds: float) -> tuple[int, int, float]:
    """Answered calls, lost records, and the answer time of the oldest lost one before the kill."""
    with (
        tempfile.TemporaryDirectory(prefix="call-log-loss-") as scratch,
        deployment([EXAMPLE_WORKER], scratch=Path(scratch)) as bridge,
    ):
        url = bridge.url + "/rpc"
        answered: dict[str, float] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                request_id = uuid.uuid4().hex
                if call(url, request_id):
                    with lock:
                        answered[request_id] = time.monotonic()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        killed_at = time.monotonic()
        bridge.sidecar.stop(signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join()
        logged = logged_ids(Settings(data_dir=Path(scratch) / "data"))
        before_kill = {rid: at for rid, at in answered.items() if at <= killed_at}
        lost = [at for rid, at in before_kill.items() if rid not in logged]
        oldest = killed_at - min(lost) if lost else 0.0
        return len(before_kill), len(lost), oldest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for index in range(args.rounds):
        answered, lost, oldest = one_round(args.clients, args.seconds)
        print(
            f"round {index + 1}: answered {answered} calls in {args.seconds:g} s, "
            f"lost {lost} records, oldest lost answered {oldest * 1000:.0f} ms before the SIGKILL"
        )


if __name__ == "__main__":
    main()
