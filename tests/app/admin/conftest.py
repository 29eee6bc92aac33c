"""Admin-console fixtures: the real admin app over real SQLite stores in the test's directory.

The catalogue is a real `Catalogue` fed by hand, so the console sees what a sidecar would.
Password hashes use a small scrypt cost to keep the tests quick; the format is the real one.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient

from bridge.admin import AdminConsole
from bridge.admin.console import WebhookConsole
from bridge.admin.site import create_admin_app
from bridge.auth.passwords import hash_password
from bridge.procedures import Parameter, ProcedureInfo
from bridge.settings import Settings
from bridge.sidecar.catalogue import Catalogue
from bridge.sidecar.listener_input import check_listener
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.factory import Stores, open_stores
from bridge.store.records import CallRecord
from tests.app.admin.html_forms import csrf_token_of

PASSWORD = "correct horse battery staple"
WORKER_A = "127.0.0.1:50061"
WORKER_B = "127.0.0.1:50062"
T0 = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)

AdminClient = TestClient[Any, Any]


def quick_hash(password: str) -> str:
    """A real scrypt hash at a low cost."""
    return hash_password(password, n=1 << 4)


def call_record(**overrides: Any) -> CallRecord:
    """A plausible incoming XML-RPC call record, with any field overridden."""
    values: dict[str, Any] = {
        "at": T0,
        "direction": "incoming",
        "protocol": "xmlrpc",
        "procedure": "echo",
        "outcome": "ok",
        "duration_ms": 1.25,
        "user": "alice",
        "peer": "127.0.0.1:40000",
        "request_id": "req-1",
    }
    values.update(overrides)
    return CallRecord(**values)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    """Real SQLite stores in the test's directory, the admin password not yet set."""
    opened = await open_stores(Settings(data_dir=tmp_path))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def catalogue() -> Catalogue:
    """A catalogue with echo on two workers and math.add (auth, version 2) on one."""
    catalogue = Catalogue()
    echo = ProcedureInfo(
        "echo",
        help="Return the argument unchanged.",
        params=(Parameter("var", "string", True),),
        returns="string",
    )
    add = ProcedureInfo(
        "math.add",
        help="Add two integers.",
        params=(Parameter("a", "int"), Parameter("b", "int")),
        returns="int",
        auth=True,
        versions=(2,),
    )
    catalogue.update(WORKER_A, [echo, add])
    catalogue.update(WORKER_B, [echo])
    return catalogue


@pytest.fixture
def console(stores: Stores, catalogue: Catalogue) -> AdminConsole:
    """The console over the stores and catalogue, as the sidecar wires it."""
    return AdminConsole(
        users=stores.users,
        call_log=stores.call_log,
        admin=stores.admin,
        workers=catalogue.workers,
        describe=catalogue.describe,
        webhooks=WebhookConsole(
            listeners=stores.listeners,
            events=stores.events,
            check=lambda url, events, match, owner: check_listener(
                url, events, match, owner, WebhookPolicy(), T0
            ),
            secret_overlap=86400.0,
        ),
    )


@pytest.fixture
async def anonymous(aiohttp_client: AiohttpClient, console: AdminConsole) -> AdminClient:
    """A client of the admin app that has not logged in; no admin password set yet."""
    return await aiohttp_client(create_admin_app(CollectorRegistry(), console))


@pytest.fixture
async def with_password(anonymous: AdminClient, stores: Stores) -> AdminClient:
    """A client that has not logged in, the admin password being PASSWORD."""
    await stores.admin.set_password_hash(quick_hash(PASSWORD))
    return anonymous


LogIn = Callable[[AdminClient, str], Awaitable[Any]]


async def log_in(client: AdminClient, password: str = PASSWORD, next_path: str = "") -> Any:
    """Fetch the login page and submit its form; returns the (unfollowed) response."""
    page = await (await client.get("/login")).text()
    data = {"csrf_token": csrf_token_of(page), "password": password, "next": next_path}
    return await client.post("/login", data=data, allow_redirects=False)


@pytest.fixture
async def admin(with_password: AdminClient) -> AdminClient:
    """A client logged in to the admin console."""
    response = await log_in(with_password)
    assert response.status == 303
    return with_password


async def page_token(client: AdminClient, path: str = "/users") -> str:
    """The CSRF token on a page of the logged-in session."""
    response = await client.get(path)
    assert response.status == 200
    return csrf_token_of(await response.text())
