"""The admin login: who gets in, how the session cookie behaves, and what stays open."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient

from bridge.admin.site import create_admin_app
from bridge.store.factory import Stores
from tests.app.admin.conftest import PASSWORD, AdminClient, log_in, quick_hash
from tests.app.admin.html_forms import forms_of


def session_cookie(client: AdminClient) -> str:
    """The session cookie the client holds."""
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["rpcbridge_admin"].value


def replace_session_cookie(client: AdminClient, value: str) -> None:
    """Make the client send `value` as its session cookie, and nothing else."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"rpcbridge_admin": value}, response_url=client.make_url("/"))


PROTECTED = [
    "/",
    "/overview",
    "/calls",
    "/calls?procedure=echo",
    "/calls/1",
    "/users",
    "/procedures",
    "/nowhere",
]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_health_and_metrics_need_no_login(with_password: AdminClient, path: str) -> None:
    """/healthz and /metrics answer 200 without a session, as before the console existed."""
    response = await with_password.get(path, allow_redirects=False)
    assert response.status == 200


@pytest.mark.parametrize("path", PROTECTED)
async def test_pages_redirect_to_login(with_password: AdminClient, path: str) -> None:
    """Every console page sends a visitor without a session to /login, remembering where it was going."""
    response = await with_password.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
    if path not in ("/", "/overview"):
        assert "next=" in response.headers["Location"]


async def test_post_without_session_changes_nothing(with_password: AdminClient, stores: Stores) -> None:
    """A POST without a session is sent to /login and creates no user."""
    response = await with_password.post("/users", data={"name": "mallory"}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/login")
    assert await stores.users.get("mallory") is None


async def test_login_page_explains_how_to_set_password(anonymous: AdminClient) -> None:
    """With no admin password stored, the login page says to run `rpcbridge admin set-password`."""
    text = await (await anonymous.get("/login")).text()
    assert "rpcbridge admin set-password" in text


async def test_no_password_set_means_no_login(anonymous: AdminClient) -> None:
    """With no admin password stored, no password logs in, the empty one included."""
    for password in ("", "anything"):
        response = await log_in(anonymous, password)
        assert response.status == 401
    assert (await anonymous.get("/calls", allow_redirects=False)).status == 303


async def test_wrong_password_is_refused(with_password: AdminClient) -> None:
    """A wrong password gets 401 with "Wrong password." and no session."""
    response = await log_in(with_password, PASSWORD + "x")
    assert response.status == 401
    assert "Wrong password." in await response.text()
    assert (await with_password.get("/calls", allow_redirects=False)).status == 303


async def test_right_password_logs_in_and_goes_on(with_password: AdminClient) -> None:
    """The right password redirects to the page asked for, which then opens."""
    response = await log_in(with_password, PASSWORD, "/users?notice=x")
    assert (response.status, response.headers["Location"]) == (303, "/users?notice=x")
    assert (await with_password.get("/users", allow_redirects=False)).status == 200


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/logout", ""]
)
async def test_login_never_redirects_off_site(with_password: AdminClient, target: str) -> None:
    """`next` that leaves the site (or loops to login/logout) is replaced by the overview."""
    response = await log_in(with_password, PASSWORD, target)
    assert response.headers["Location"] == "/overview"


async def test_session_cookie_flags(with_password: AdminClient) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, Path=/, and lasts 8 hours."""
    response = await log_in(with_password)
    cookie = SimpleCookie(response.headers["Set-Cookie"])["rpcbridge_admin"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(8 * 3600)


async def test_login_issues_a_new_session(with_password: AdminClient) -> None:
    """Logging in replaces the login page's visitor cookie (no session fixation)."""
    visitor = (await with_password.get("/login")).cookies["rpcbridge_admin"].value
    response = await log_in(with_password)
    assert response.cookies["rpcbridge_admin"].value != visitor


async def test_tampered_cookie_is_refused(admin: AdminClient) -> None:
    """A session cookie with a changed byte no longer opens pages."""
    value = session_cookie(admin)
    replace_session_cookie(admin, value)
    assert (await admin.get("/calls", allow_redirects=False)).status == 200
    replace_session_cookie(admin, value[:-1] + ("0" if value[-1] != "0" else "1"))
    assert (await admin.get("/calls", allow_redirects=False)).status == 303


async def test_logout_ends_the_session(admin: AdminClient) -> None:
    """After POST /logout, even a replayed copy of the old cookie is refused."""
    old = session_cookie(admin)
    page = await (await admin.get("/calls")).text()
    logout = next(form for form in forms_of(page) if form.action == "/logout")
    response = await admin.post("/logout", data=logout.fields, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/login")
    assert (await admin.get("/calls", allow_redirects=False)).status == 303
    replace_session_cookie(admin, old)
    assert (await admin.get("/calls", allow_redirects=False)).status == 303


async def test_new_password_ends_every_session(admin: AdminClient, stores: Stores) -> None:
    """Setting a new admin password logs out sessions opened with the old one."""
    await stores.admin.set_password_hash(quick_hash("a new password"))
    assert (await admin.get("/calls", allow_redirects=False)).status == 303


async def test_login_attempts_are_limited(with_password: AdminClient) -> None:
    """After 10 attempts from one address, the 11th is refused with 429, even with the right password."""
    for _ in range(10):
        assert (await log_in(with_password, "wrong")).status == 401
    response = await log_in(with_password, PASSWORD)
    assert response.status == 429
    assert (await with_password.get("/calls", allow_redirects=False)).status == 303


async def test_admin_app_without_console_serves_only_health_and_metrics(
    aiohttp_client: AiohttpClient,
) -> None:
    """create_admin_app(registry) alone has no console: /login and /calls are 404."""
    client: TestClient[object, object] = await aiohttp_client(create_admin_app(CollectorRegistry()))
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 200
    assert (await client.get("/login")).status == 404
    assert (await client.get("/calls")).status == 404


async def test_pages_carry_security_headers(admin: AdminClient) -> None:
    """Console pages forbid framing, scripts and caching."""
    response = await admin.get("/users")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


async def test_stylesheet_is_served_before_login(with_password: AdminClient) -> None:
    """The stylesheet loads without a session, so the login page is styled."""
    response = await with_password.get("/static/admin.css", allow_redirects=False)
    assert response.status == 200
    assert response.content_type == "text/css"
