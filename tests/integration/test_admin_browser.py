"""The admin console in a real browser: Debian's headless Chromium, driven by Playwright, against a
real deployment (worker, sidecar, frontend processes) whose admin password was set with the CLI.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import xmlrpc.client
from pathlib import Path

import pytest

from bridge.testing import deployment, wait_until
from tests.integration.conftest import EXAMPLE_WORKER

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
# This machine's network is closed: keep Chromium from reaching out (QUIC, updates, sync).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser test password"
NEW_USER = "browser-user"
HOOK_URL = "https://hooks.example.com/people"


def free_port() -> int:
    """A port nobody listens on now (the frontend's, which the sidecar must know before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def set_admin_password(data_dir: Path, password: str) -> None:
    """`rpcbridge admin set-password`, the password on stdin as a script would give it."""
    subprocess.run(
        [sys.executable, "-m", "bridge", "admin", "set-password", "--data-dir", str(data_dir)],
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    )


def users_listing(data_dir: Path) -> str:
    """What `rpcbridge users list` prints."""
    return subprocess.run(
        [sys.executable, "-m", "bridge", "users", "list", "--data-dir", str(data_dir)],
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout


@pytest.mark.browser
@pytest.mark.timeout(180)
# `make install` provides chromium; only outside CI may a machine without it skip this test.
@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium at /usr/bin/chromium"
)
def test_admin_console_in_a_browser(tmp_path: Path) -> None:
    """Log in to the overview charting a call, find its detail, create a user (key shown once), disable it,
    add a webhook listener with a filter (secret shown once), see its event and redeliver its delivery,
    and watch a call's event appear on the live events page."""
    expect = playwright_sync.expect
    scratch = tmp_path / "deployment"
    data_dir = scratch / "data"
    port = free_port()
    env = {"RPCBRIDGE_FRONTEND_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with deployment([EXAMPLE_WORKER], scratch=scratch, env=env, frontend_port=port) as bridge:
        set_admin_password(data_dir, PASSWORD)
        with xmlrpc.client.ServerProxy(bridge.url + "/rpc") as proxy:
            assert proxy.echo("hello from the browser test") == "hello from the browser test"

        with playwright_sync.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.set_default_timeout(15_000)
                admin = bridge.admin_url

                page.goto(admin + "/overview")
                expect(page).to_have_url(admin + "/login")
                page.screenshot(path=tmp_path / "login.png")
                page.get_by_label("Admin password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                expect(page.get_by_role("heading", name="Overview")).to_be_visible()

                # The overview draws the call once the batched call log has it.
                busiest = page.locator('svg[data-chart="procedures"] g.row[data-name="echo"]')

                def call_is_charted() -> bool:
                    page.reload()
                    return busiest.count() > 0

                wait_until(call_is_charted, timeout=20, interval=0.5)
                expect(busiest).to_have_attribute("data-count", "1")
                ok_bars = page.locator('svg[data-chart="calls"] rect.bar.ok')
                assert sum(int(bar.get_attribute("data-count") or 0) for bar in ok_bars.all()) == 1
                expect(page.locator('svg[data-chart="latency"] circle.point.p99')).to_have_count(1)
                expect(page.locator("svg.chart").first).to_be_visible()
                page.screenshot(path=tmp_path / "overview.png", full_page=True)

                page.get_by_role("link", name="Call log").click()
                expect(page.get_by_role("heading", name="Call log")).to_be_visible()

                # The sidecar writes the call log in batches: reload until the call is there.
                echo_rows = page.locator("table.data tbody tr", has_text="echo")

                def call_is_listed() -> bool:
                    page.reload()
                    return echo_rows.count() > 0

                wait_until(call_is_listed, timeout=20, interval=0.5)
                expect(echo_rows.first.locator(".badge")).to_have_text("ok")
                page.screenshot(path=tmp_path / "calls.png", full_page=True)
                echo_rows.first.get_by_role("link", name="Details").click()
                expect(page.get_by_role("heading", name="echo")).to_be_visible()
                expect(page.locator("dl.fields")).to_contain_text("xmlrpc")
                expect(page.locator("dl.fields")).to_contain_text("Trace ID")
                page.screenshot(path=tmp_path / "call-detail.png", full_page=True)

                page.get_by_role("link", name="API users").click()
                page.get_by_label("Name").fill(NEW_USER)
                page.get_by_label("Scopes").fill("echo, math.*")
                page.get_by_role("button", name="Create user").click()
                expect(page.get_by_text("it is shown only once")).to_be_visible()
                key = page.locator("#api-key").input_value()
                assert len(key) >= 20
                page.screenshot(path=tmp_path / "new-key.png", full_page=True)

                page.get_by_role("link", name="Back to API users").click()
                row = page.locator("table.data tbody tr", has_text=NEW_USER)
                expect(row.locator(".badge")).to_have_text("enabled")
                assert key not in page.content()
                row.get_by_role("button", name=f"Disable {NEW_USER}").click()
                expect(page.get_by_role("status")).to_contain_text(f"User {NEW_USER} is disabled")
                expect(row.locator(".badge")).to_have_text("disabled")
                page.screenshot(path=tmp_path / "users.png", full_page=True)

                # Webhooks: add a listener with a filter (secret shown once), then redeliver a delivery.
                page.get_by_role("link", name="Webhooks").click()
                page.get_by_label("URL").fill(HOOK_URL)
                page.get_by_label("Event types").fill("person.saved")
                page.get_by_label("Filter").fill('{"name": {"startswith": "Jo"}}')
                page.get_by_role("button", name="Add listener").click()
                expect(page.get_by_text("it is shown only once")).to_be_visible()
                secret = page.locator("#webhook-secret").input_value()
                assert secret.startswith("whsec_")
                page.get_by_role("link", name="Back to webhook listeners").click()
                listener_row = page.locator("table.data tbody tr", has_text=HOOK_URL)
                expect(listener_row.locator(".badge")).to_have_text("enabled")
                assert secret not in page.content()
                with xmlrpc.client.ServerProxy(bridge.url + "/rpc", allow_none=True) as proxy:
                    proxy.people.save("Joanna", {"city": "Berlin"}, "not for listeners")
                    proxy.people.save("Ann", {"city": "Oslo"}, "filtered out")
                page.get_by_role("link", name="Events", exact=True).click()
                expect(page.locator("table.data")).to_contain_text("Joanna")
                expect(page.locator("table.data")).not_to_contain_text("not for listeners")
                page.get_by_role("link", name="Webhooks").click()
                listener_row.get_by_role("link", name="Deliveries").click()
                delivery_rows = page.locator("table.data tbody tr")
                expect(delivery_rows).to_have_count(1)  # Ann did not match the filter
                delivery_rows.first.get_by_role("button", name="Redeliver").click()
                expect(page.get_by_role("status")).to_contain_text("queued again")
                expect(page.get_by_role("heading", name="Deliveries to")).to_be_visible()
                page.screenshot(path=tmp_path / "deliveries.png", full_page=True)

                page.get_by_role("link", name="Procedures").click()
                expect(page.locator("table.data")).to_contain_text(bridge.workers[0].facts["address"])
                page.screenshot(path=tmp_path / "procedures.png", full_page=True)

                # The live events view subscribes over the frontend's /ws: a call's event appears.
                page.get_by_role("link", name="Live events").click()
                expect(page.get_by_role("status")).to_have_text("live")
                with xmlrpc.client.ServerProxy(bridge.url + "/rpc") as proxy:
                    proxy.people.save("Browser Bob", {"city": "Bern"})
                expect(page.locator("#live-events tr", has_text="person.saved")).to_contain_text(
                    "Browser Bob"
                )
                page.screenshot(path=tmp_path / "events.png", full_page=True)
            finally:
                browser.close()

        listing = users_listing(data_dir)
        assert NEW_USER in listing
        assert "disabled" in listing
