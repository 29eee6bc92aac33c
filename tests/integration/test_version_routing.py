"""Rolling upgrade: a v1 worker and a v2 worker serve the same name; each /rpc/vN reaches its own."""

from __future__ import annotations

from pathlib import Path

from bridge.testing import deployment
from tests.integration.conftest import xmlrpc_call

_WORKER = '''
from bridge import Worker

worker = Worker()


@worker.procedure(name="release", version={version})
def release() -> str:
    """Which worker answered."""
    return "v{version}"
'''


def test_each_version_reaches_only_its_workers(tmp_path: Path) -> None:
    """Calls through /rpc/v1 always reach the v1 worker and /rpc/v2 the v2 one, never NOT_FOUND."""
    targets = []
    for version in (1, 2):
        target = tmp_path / f"release_v{version}.py"
        target.write_text(_WORKER.format(version=version))
        targets.append(str(target))
    with deployment(targets, scratch=tmp_path) as bridge:
        for version in (1, 2):
            answers = {xmlrpc_call(f"{bridge.url}/rpc/v{version}", "release") for _ in range(6)}
            assert answers == {f"v{version}"}
