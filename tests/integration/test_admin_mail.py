"""admin_emails on real processes: the sidecar keeps a job.failed mail listener, and a failed job is mailed.

The SMTP server (aiosmtpd) runs in a thread of the test with its own event loop, on a kernel-chosen
port, because the bridge runs in other processes.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bridge.events.model import Event
from bridge.settings import Settings, load_settings
from bridge.sidecar.mail_sender import ADMIN_MAIL_LISTENER_ID, MailServer, send_for_listener
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.factory import open_stores
from bridge.store.webhook_records import Listener
from bridge.testing import deployment, wait_until
from tests.integration.conftest import EXAMPLE_WORKER, json_rpc
from tests.integration.test_authentication import rpcbridge

# The sidecar's delivery loop (issue 8, step 3) sends the mail; it is merged from another branch.
SECRET_IN_THE_TRACEBACK = "hunter2-never-mailed"


class Inbox:
    """Every mail an aiosmtpd server accepted; the server runs in its own thread and loop."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        return "250 OK"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: SMTP(self, hostname="mail.test"), "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def __enter__(self) -> Inbox:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox() as running:
        yield running


def call(url: str, method: str, *params: Any) -> dict[str, Any]:
    _, answer = json_rpc(url + "/rpc", {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1})
    assert isinstance(answer, dict)
    return answer


def test_sidecar_start_adds_the_admin_emails_listener(inbox: Inbox, tmp_path: Path) -> None:
    """With admin_emails set, the sidecar starts with an enabled job.failed mail listener, owner admin."""
    env = {
        "RPCBRIDGE_ADMIN_EMAILS": "ops@example.com",
        "RPCBRIDGE_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
    }
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        listed = rpcbridge(bridge.scratch / "data", "webhooks", "list")
    assert "lst_admin_emails\tenabled\tmailto:ops@example.com\tevents=job.failed" in listed
    assert "owner=admin" in listed


def test_failed_job_leaves_a_delivery_that_send_for_listener_mails(inbox: Inbox, tmp_path: Path) -> None:
    """Without the loop: a crashed job commits a job.failed delivery for the admins, and the call the
    loop makes per attempt (`send_for_listener`) mails its job, procedure, error and request id."""
    env = {"RPCBRIDGE_ADMIN_EMAILS": "ops@example.com"}
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        job_id = call(bridge.url, "jobs.fail", 0, SECRET_IN_THE_TRACEBACK)["result"]
        settings = load_settings(flags={"data_dir": tmp_path / "data"}, environ={})
        wait_until(lambda: asyncio.run(_pending(settings)) is not None)
    listener, event = asyncio.run(_pending(settings)) or (None, None)
    assert listener is not None and event is not None and event.data["job"] == job_id
    server = MailServer.from_settings(f"smtp://127.0.0.1:{inbox.port}", "bridge@example.com")
    result = asyncio.run(
        send_for_listener(listener, event, policy=WebhookPolicy(), mail=server, time_limit=10)
    )
    assert result.status == 250, result
    (mail,) = inbox.mails
    body = mail.get_content()
    assert event.request_id and event.request_id in body
    assert job_id in body and "jobs.fail" in body and "-32603" in body
    assert SECRET_IN_THE_TRACEBACK not in mail.as_string() and "Traceback" not in body


async def _pending(settings: Settings) -> tuple[Listener, Event] | None:
    """The admin mail listener and the event of its first delivery, once there is one."""
    stores = await open_stores(settings)
    try:
        listener = await stores.listeners.get(ADMIN_MAIL_LISTENER_ID)
        deliveries = await stores.listeners.deliveries(ADMIN_MAIL_LISTENER_ID)
        if listener is None or not deliveries:
            return None
        event = await stores.events.get(deliveries[0].event_id)
        return None if event is None else (listener, event)
    finally:
        await stores.close()


def test_failed_job_is_mailed_to_the_admins(inbox: Inbox, tmp_path: Path) -> None:
    """A job that crashes is mailed with its id, procedure, error and request id; no traceback text."""
    env = {
        "RPCBRIDGE_ADMIN_EMAILS": "ops@example.com",
        "RPCBRIDGE_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
        "RPCBRIDGE_SMTP_FROM": "bridge@example.com",
    }
    with deployment([EXAMPLE_WORKER], env=env, scratch=tmp_path) as bridge:
        job_id = call(bridge.url, "jobs.fail", 0, SECRET_IN_THE_TRACEBACK)["result"]
        wait_until(lambda: inbox.mails, timeout=30)
        deliveries = rpcbridge(bridge.scratch / "data", "webhooks", "deliveries", "lst_admin_emails")
    (mail,) = inbox.mails
    assert mail["To"] == "ops@example.com" and mail["From"] == "bridge@example.com"
    assert job_id in str(mail["Subject"]) and "jobs.fail" in str(mail["Subject"])
    body = mail.get_content()
    assert job_id in body and "jobs.fail" in body and "-32603" in body and "Request id:" in body
    assert SECRET_IN_THE_TRACEBACK not in mail.as_string() and "Traceback" not in body
    assert "delivered" in deliveries and "250" in deliveries
    assert json.dumps(SECRET_IN_THE_TRACEBACK) not in deliveries
