"""The call log across a sidecar's end: SIGTERM loses nothing; SIGKILL loses at most a batch window."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

from bridge.settings import Settings
from bridge.store.factory import open_stores
from bridge.store.records import CallFilter
from bridge.testing import deployment
from tests.integration.conftest import EXAMPLE_WORKER, xmlrpc_call

CALLS = 200


def logged_request_ids(settings: Settings, procedure: str) -> set[str]:
    """The request ids of every logged call of `procedure`."""

    async def query() -> set[str]:
        stores = await open_stores(settings)
        try:
            page = await stores.call_log.query(CallFilter(procedure=procedure), limit=CALLS * 2, offset=0)
            return {record.request_id for record in page.records}
        finally:
            await stores.close()

    return asyncio.run(query())


def test_sigterm_writes_every_call_before_the_sidecar_exits(tmp_path: Path) -> None:
    """N calls answered, then SIGTERM at once: the sidecar exits 0 and all N are in the call log."""
    with deployment([EXAMPLE_WORKER], scratch=tmp_path) as bridge:
        marker = uuid.uuid4().hex
        for index in range(CALLS):
            assert xmlrpc_call(bridge.url + "/rpc", "echo", f"{marker}-{index}") == f"{marker}-{index}"
        assert bridge.sidecar.stop(signal.SIGTERM) == 0
        logged = logged_request_ids(Settings(data_dir=tmp_path / "data"), "echo")
    assert len(logged) == CALLS
    assert "records not written" not in bridge.sidecar.log()
