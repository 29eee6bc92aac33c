"""Integration fixtures: real worker, sidecar and frontend processes on 127.0.0.1, kernel-chosen ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
import xmlrpc.client
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bridge.testing import Deployment, deployment

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("RPCBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("RPCBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped after the test."""
    schema = f"rpcbridge_test_{uuid.uuid4().hex}"
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}search_path={schema}"
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await connection.close()


EXAMPLE_WORKER = str(ROOT / "examples" / "example_worker.py")


@pytest.fixture(scope="session")
def bridge() -> Iterator[Deployment]:
    """One deployment of the example worker shared by the read-only tests of the session."""
    with deployment([EXAMPLE_WORKER]) as running:
        yield running


def post(
    url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """POST raw bytes; returns status, headers and body, whatever the status."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def json_rpc(url: str, payload: Any) -> tuple[int, Any]:
    """POST a JSON-RPC payload (object or raw text); returns HTTP status and decoded body (None if empty)."""
    body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    status, _, raw = post(url, body, "application/json")
    return status, json.loads(raw) if raw else None


ProxyFactory = Callable[..., xmlrpc.client.ServerProxy]


@pytest.fixture
def xmlrpc_proxy(bridge: Deployment) -> Iterator[ProxyFactory]:
    """Makes ServerProxy objects for paths of the shared bridge, closing their sockets afterwards."""
    opened: list[xmlrpc.client.ServerProxy] = []

    def make(path: str = "/rpc") -> xmlrpc.client.ServerProxy:
        proxy = xmlrpc.client.ServerProxy(bridge.url + path, use_builtin_types=True, allow_none=True)
        opened.append(proxy)
        return proxy

    yield make
    for proxy in opened:
        proxy("close")()


def xmlrpc_call(url: str, method: str, *args: Any) -> Any:
    """One XML-RPC call on a connection that is closed afterwards."""
    with xmlrpc.client.ServerProxy(url, use_builtin_types=True, allow_none=True) as proxy:
        return getattr(proxy, method)(*args)


def refused_start(args: list[str], env: dict[str, str]) -> str:
    """Run `rpcbridge ARGS` in a bare environment, expecting it to refuse to start: its stderr.

    Refusals are one line on stderr and exit status 2 (docs/configuration.md).
    """
    done = subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr
