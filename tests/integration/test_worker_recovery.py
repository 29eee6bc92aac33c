"""A worker killed mid-run gives clear faults; the bridge recovers when it comes back."""

from __future__ import annotations

import signal
import threading
import time
import xmlrpc.client
from pathlib import Path

import pytest

from bridge.testing import deployment, start_role, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, xmlrpc_call


def test_killed_worker_gives_unavailable_then_recovers(tmp_path: Path) -> None:
    """SIGKILL the only worker: in-flight and new calls fault with -32004; a restarted worker serves again."""
    with deployment([EXAMPLE_WORKER], scratch=tmp_path) as bridge:
        url = bridge.url + "/rpc"
        assert xmlrpc_call(url, "echo", "before") == "before"
        address = bridge.workers[0].facts["address"]

        in_flight: list[BaseException] = []

        def slow_call() -> None:
            try:
                xmlrpc_call(url, "slow.sleep", 5)
            except BaseException as exc:
                in_flight.append(exc)

        caller = threading.Thread(target=slow_call)
        caller.start()
        # Give the call time to reach the worker; the assertion below does not depend on timing
        # beyond that, and a call that had not yet arrived would fault with the same code.
        time.sleep(1.0)
        bridge.workers[0].stop(signal.SIGKILL)
        caller.join(10)
        assert isinstance(in_flight[0], xmlrpc.client.Fault)
        assert in_flight[0].faultCode == -32004

        with pytest.raises(xmlrpc.client.Fault) as raised:
            xmlrpc_call(url, "echo", "during")
        assert raised.value.faultCode == -32004

        bridge.extra.append(start_role("worker", [EXAMPLE_WORKER, "--listen", address], tmp_path, bridge.env))

        def serves_again() -> bool:
            try:
                return bool(xmlrpc_call(url, "echo", "after") == "after")
            except xmlrpc.client.Fault:
                return False

        wait_until(serves_again, timeout=20, interval=0.2)
