"""Mail listeners against a real SMTP server (aiosmtpd) on 127.0.0.1: what arrives, what fails, dispatch.

The server runs in the test's loop; the sender's blocking smtplib exchange runs in a thread, so the
loop stays free to serve it.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_aiohttp import AiohttpServer
from standardwebhooks.webhooks import Webhook

from bridge.events.model import JOB_FAILED, Event
from bridge.events.webhook_signing import new_secret
from bridge.sidecar.mail_sender import MailServer, send_for_listener, send_mail_attempt
from bridge.sidecar.webhook_targets import WebhookPolicy
from bridge.store.webhook_records import Listener, ListenerSecret

TRACEBACK_SECRET = "hunter2-in-a-local-variable"
FAILED = Event(
    JOB_FAILED,
    {
        "job": "0f3c9a1e2d4b5a6978c1d2e3f4a5b6c7",
        "procedure": "reports.build",
        "code": -32603,
        "message": "Internal error",
        # Not a field job.failed carries; here to show the mail names only the fields it means to.
        "traceback": f'File "reports.py", line 3, in build\n    password = "{TRACEBACK_SECRET}"',
    },
    procedure="reports.build",
    request_id="req-7f1e",
    caller="alice",
    auth=True,
)


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every accepted mail and refuses recipients at `refused.example`."""

    received: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        return "250 OK queued"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Mailbox, MailServer]]:
    """A real SMTP server on a kernel-chosen port, and the MailServer that reaches it."""
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mailbox, hostname="mail.test"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield mailbox, MailServer.from_settings(f"smtp://127.0.0.1:{port}", "bridge@example.com")  # type: ignore[misc]
    server.close()
    await server.wait_closed()


async def test_job_failed_mail_arrives_with_job_procedure_error_and_request_id(
    smtp: tuple[Mailbox, MailServer],
) -> None:
    """The mail names the job, procedure, fault code and message and request id; no traceback text."""
    mailbox, server = smtp
    result = await send_mail_attempt(
        "mailto:ops@example.com,oncall@example.com", FAILED, server, time_limit=10
    )
    assert result.succeeded and result.status == 250 and result.error is None
    ((envelope, message),) = mailbox.received
    assert envelope.mail_from == "bridge@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    subject = str(message["Subject"])
    assert "reports.build" in subject and FAILED.data["job"] in subject
    body = message.get_content()
    expected = (FAILED.data["job"], "reports.build", "-32603 Internal error", "req-7f1e", "alice", FAILED.id)
    for text in expected:
        assert text in body
    assert TRACEBACK_SECRET not in message.as_string() and "Traceback" not in body
    assert message["X-Rpcbridge-Event-Id"] == FAILED.id


async def test_other_events_list_their_whitelisted_data(smtp: tuple[Mailbox, MailServer]) -> None:
    """A mail listener on any event type gets its type, procedure, request id and data fields."""
    mailbox, server = smtp
    event = Event("person.saved", {"name": "Jo", "address": {"city": "Berlin"}}, procedure="people.save")
    assert (await send_mail_attempt("mailto:ops@example.com", event, server, time_limit=10)).succeeded
    ((_, message),) = mailbox.received
    assert "person.saved" in str(message["Subject"])
    body = message.get_content()
    assert "name: Jo" in body and 'address: {"city": "Berlin"}' in body and "people.save" in body


async def test_refused_recipient_is_a_failed_attempt_with_the_servers_words(
    smtp: tuple[Mailbox, MailServer],
) -> None:
    """A 550 for a recipient is no status and an error naming the address and the reply."""
    mailbox, server = smtp
    result = await send_mail_attempt("mailto:nobody@refused.example", FAILED, server, time_limit=10)
    assert not result.succeeded and result.status is None
    assert result.error is not None and "nobody@refused.example" in result.error and "550" in result.error
    assert mailbox.received == []


async def test_unreachable_server_and_missing_setting_are_failed_attempts() -> None:
    """No SMTP server listening, or no smtp_url at all: a failed attempt with a reason, never a raise."""
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    closed = MailServer.from_settings(f"smtp://127.0.0.1:{port}", "bridge@example.com")
    refused = await send_mail_attempt("mailto:ops@example.com", FAILED, closed, time_limit=5)
    assert refused.status is None and refused.error is not None and "127.0.0.1" in refused.error
    unset = await send_mail_attempt("mailto:ops@example.com", FAILED, None, time_limit=5)
    assert unset.error == "smtp_url is not set: mail listeners cannot be delivered"


def _listener(url: str, secret: str) -> Listener:
    return Listener(
        id="lst_test",
        url=url,
        event_types=("*",),
        filter={},
        owner="admin",
        secrets=(ListenerSecret(secret),),
        created_at=datetime.datetime.now(datetime.UTC),
    )


async def test_send_for_listener_mails_mailto_and_posts_signed_webhooks(
    smtp: tuple[Mailbox, MailServer], aiohttp_server: AiohttpServer
) -> None:
    """The delivery loop's one call: mailto: goes over SMTP, http(s) as a Standard Webhooks POST."""
    mailbox, server = smtp
    got: list[tuple[bytes, dict[str, str]]] = []

    async def receive(request: web.Request) -> web.Response:
        got.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    receiver = await aiohttp_server(app)
    secret = new_secret()
    policy = WebhookPolicy.from_settings(allow_http=True, allow_networks=["127.0.0.0/8"])
    common: dict[str, Any] = {"policy": policy, "mail": server, "time_limit": 10}
    mailed = await send_for_listener(_listener("mailto:ops@example.com", secret), FAILED, **common)
    assert mailed.status == 250 and len(mailbox.received) == 1
    url = f"http://127.0.0.1:{receiver.port}/hook"
    posted = await send_for_listener(_listener(url, secret), FAILED, **common)
    assert posted.status == 204 and len(got) == 1
    body, headers = got[0]
    verified = Webhook(secret).verify(body, headers)
    assert verified["id"] == FAILED.id and verified["type"] == JOB_FAILED
    refused = await send_for_listener(_listener(url, secret), FAILED, **{**common, "policy": WebhookPolicy()})
    assert refused.status is None and refused.error is not None and len(got) == 1
