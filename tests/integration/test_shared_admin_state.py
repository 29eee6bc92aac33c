"""Admin state that spans sidecars: a login survives a restart and works on another sidecar, a
logout holds everywhere, the login throttle is shared through Redis behind trusted proxies, and a
shared PostgreSQL without Redis is refused."""

from __future__ import annotations

import http.client
import secrets
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from bridge.admin.sessions import COOKIE_NAME
from bridge.testing import RunningProcess, start_role
from tests.app.admin.html_forms import forms_of
from tests.integration.conftest import EXAMPLE_WORKER, REDIS_URL, refused_start

PASSWORD = "shared admin password"


def request(
    admin_url: str,
    method: str,
    path: str,
    cookie: str = "",
    form: dict[str, str] | None = None,
    **headers: str,
) -> tuple[int, dict[str, str], str]:
    """One HTTP request without following redirects: status, headers and body."""
    parts = urllib.parse.urlsplit(admin_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=15)
    try:
        if cookie:
            headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read().decode()
    finally:
        connection.close()


def cookie_of(headers: dict[str, str]) -> str:
    value = headers["Set-Cookie"].split(";", 1)[0]
    name, _, cookie = value.partition("=")
    assert name == COOKIE_NAME
    return cookie


def try_login(admin_url: str, password: str, **headers: str) -> tuple[int, str]:
    """The login form as a browser submits it: the status, and the session cookie when it worked."""
    _, got, page = request(admin_url, "GET", "/login", **headers)
    visitor = cookie_of(got)
    form = next(form for form in forms_of(page) if form.action.startswith("/login"))
    fields = {**form.fields, "password": password}
    status, sent, _ = request(admin_url, "POST", "/login", visitor, fields, **headers)
    return status, cookie_of(sent) if status == 303 else ""


def set_admin_password(env: dict[str, str], args: list[str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "bridge", "admin", "set-password", *args],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", **env},
    )


class Sidecars:
    """Sidecars on one PostgreSQL and Redis (given as flags) and one configured session key."""

    def __init__(self, scratch: Path, postgres_url: str) -> None:
        self.scratch = scratch
        self.env = {
            "RPCBRIDGE_WORKER_SECRET": secrets.token_hex(16),
            "RPCBRIDGE_ADMIN_SESSION_KEY": secrets.token_hex(32),
            "RPCBRIDGE_TRUSTED_PROXIES": "127.0.0.1/32",
        }
        self.stores = ["--database-url", postgres_url, "--redis-url", REDIS_URL]
        self.worker = start_role(
            "worker",
            [EXAMPLE_WORKER, "--listen", "127.0.0.1:0", "--data-dir", str(scratch)],
            scratch,
            self.env,
        )
        self.running: list[RunningProcess] = []

    def start(self, name: str) -> RunningProcess:
        args = ["--grpc-port", "0", "--admin-port", "0", "--data-dir", str(self.scratch / name), *self.stores]
        sidecar = start_role(
            "sidecar", [*args, "--worker", self.worker.facts["address"]], self.scratch, self.env
        )
        self.running.append(sidecar)
        return sidecar

    def stop(self) -> None:
        for process in [*self.running, self.worker]:
            process.stop()


@pytest.fixture
def sidecars(tmp_path: Path, postgres_url: str) -> Sidecars:
    return Sidecars(tmp_path, postgres_url)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_a_login_survives_a_restart_works_on_another_sidecar_and_logs_out_everywhere(
    sidecars: Sidecars,
) -> None:
    """Signed with the configured key, revoked in the store: a session belongs to the deployment."""
    try:
        set_admin_password(sidecars.env, ["--data-dir", str(sidecars.scratch / "a"), *sidecars.stores])
        first = sidecars.start("a")
        status, cookie = try_login(first.facts["admin"], PASSWORD)
        assert status == 303
        assert request(first.facts["admin"], "GET", "/calls", cookie)[0] == 200
        first.stop()
        restarted = sidecars.start("a")
        other = sidecars.start("b")
        assert request(restarted.facts["admin"], "GET", "/calls", cookie)[0] == 200
        assert request(other.facts["admin"], "GET", "/calls", cookie)[0] == 200
        _, _, page = request(other.facts["admin"], "GET", "/calls", cookie)
        logout = next(form for form in forms_of(page) if form.action == "/logout")
        assert request(other.facts["admin"], "POST", "/logout", cookie, logout.fields)[0] == 303
        status, headers, _ = request(restarted.facts["admin"], "GET", "/calls", cookie)
        assert status == 303 and headers["Location"].startswith("/login")
    finally:
        sidecars.stop()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_the_login_throttle_is_shared_and_keyed_by_the_forwarded_client(sidecars: Sidecars) -> None:
    """Ten wrong passwords for one client through sidecar A: its next try through B is refused (429),
    while another client behind the same trusted proxy may still try."""
    # Random addresses keep runs that share the Redis server apart.
    client, neighbour = (f"198.18.{secrets.randbelow(256)}.{n}" for n in (1, 2))
    try:
        set_admin_password(sidecars.env, ["--data-dir", str(sidecars.scratch / "a"), *sidecars.stores])
        first, second = sidecars.start("a"), sidecars.start("b")
        for _ in range(10):
            assert try_login(first.facts["admin"], "wrong", **{"X-Forwarded-For": client})[0] == 401
        assert try_login(second.facts["admin"], PASSWORD, **{"X-Forwarded-For": client})[0] == 429
        assert try_login(second.facts["admin"], PASSWORD, **{"X-Forwarded-For": neighbour})[0] == 303
    finally:
        sidecars.stop()


@pytest.mark.postgres
def test_a_shared_postgres_without_redis_is_refused(tmp_path: Path, postgres_url: str) -> None:
    """DESIGN.md Scale-out: the sidecar exits 2 and says to set redis_url."""
    args = ["sidecar", "--database-url", postgres_url, "--data-dir", str(tmp_path)]
    error = refused_start(args, {"RPCBRIDGE_WORKER_SECRET": "x" * 32})
    assert error.startswith("rpcbridge: error: database_url is PostgreSQL") and "redis_url" in error
