"""Starts the Node.js example worker (examples/node_worker) on a kernel-chosen port, for tests."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_WORKER = ROOT / "examples" / "node_worker" / "worker.js"


@contextlib.contextmanager
def node_worker(secret: str) -> Iterator[str]:
    """Run the Node worker trusting `secret`; yields its address, stops it afterwards."""
    node = shutil.which("node")
    assert node is not None, "node is part of the machine image and of `make install`"
    process = subprocess.Popen(
        [node, str(NODE_WORKER), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "RPCBRIDGE_WORKER_SECRET": secret},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening on (\S+)", line)
        assert found, f"the Node worker did not start: {line}{process.stdout.read()}"
        yield found.group(1)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
